"""fabrikit's kernel: the runtime that discovers, orders, starts and stops modules (K-1).

Modules import what they need from here; the implementation lives in ``_``-prefixed modules.
"""

from ._config import (
    AppConfig,
    ConfigError,
    ConfigStruct,
    Duration,
    InvalidConfigValue,
    convert_config,
    load_config,
)
from ._context import (
    DatabaseNotConfigured,
    ModuleContext,
    ModuleRecord,
    ModuleState,
    PluginRecord,
    RuntimeView,
    SpawnNotAllowed,
    SystemContext,
)
from ._discovery import DiscoveryIssue, discover
from ._hub import (
    ClientAlreadyRegistered,
    ClientHub,
    ClientHubFrozen,
    ClientNotFound,
    ClientScope,
    ClientTypeMismatch,
    ScopedClientNotFound,
)
from ._module import Capability, Manifest, ManifestError, Module
from ._phases import PhaseError, PhaseTimeoutError, StartupError
from ._plugin_host import PluginError
from ._resolve import (
    CycleError,
    DuplicateModuleError,
    IncompatibleDependencyError,
    MultipleRestHostsError,
    ResolutionError,
    RestHostDependencyError,
    RestRequiresHostError,
    SystemDependencyError,
    UnknownDependencyError,
    UnknownModuleError,
)
from ._runtime import Runtime, build_plan, freeze_startup_heap
from .hookspecs import hookimpl
from .plugins import PluginContext, PluginDef, PluginSelector, PluginSpec, fanout

__all__ = [
    "AppConfig",
    "Capability",
    "ClientAlreadyRegistered",
    "ClientHub",
    "ClientHubFrozen",
    "ClientNotFound",
    "ClientScope",
    "ClientTypeMismatch",
    "ConfigError",
    "ConfigStruct",
    "CycleError",
    "DatabaseNotConfigured",
    "DiscoveryIssue",
    "DuplicateModuleError",
    "Duration",
    "IncompatibleDependencyError",
    "InvalidConfigValue",
    "Manifest",
    "ManifestError",
    "Module",
    "ModuleContext",
    "ModuleRecord",
    "ModuleState",
    "MultipleRestHostsError",
    "PhaseError",
    "PhaseTimeoutError",
    "PluginContext",
    "PluginDef",
    "PluginError",
    "PluginRecord",
    "PluginSelector",
    "PluginSpec",
    "ResolutionError",
    "RestHostDependencyError",
    "RestRequiresHostError",
    "Runtime",
    "RuntimeView",
    "ScopedClientNotFound",
    "SpawnNotAllowed",
    "StartupError",
    "SystemContext",
    "SystemDependencyError",
    "UnknownDependencyError",
    "UnknownModuleError",
    "build_plan",
    "convert_config",
    "discover",
    "fanout",
    "freeze_startup_heap",
    "hookimpl",
    "load_config",
]
