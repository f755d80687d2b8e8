"""The plugin host: specs, definitions, selection and fan-out (K-10). Pure: stdlib, msgspec, structlog."""

from ._select import FanoutOutcome, PluginInstance, PluginSelector, fanout
from ._spec import (
    DRAFT_07,
    CatalogEntry,
    CatalogNotReady,
    Factory,
    PluginCatalog,
    PluginContext,
    PluginDef,
    PluginDefinitionError,
    PluginNotFound,
    PluginSpec,
    PluginUnavailable,
    TypeCatalog,
    plugin_spec_schema,
)

__all__ = [
    "DRAFT_07",
    "CatalogEntry",
    "CatalogNotReady",
    "Factory",
    "FanoutOutcome",
    "PluginCatalog",
    "PluginContext",
    "PluginDef",
    "PluginDefinitionError",
    "PluginInstance",
    "PluginNotFound",
    "PluginSelector",
    "PluginSpec",
    "PluginUnavailable",
    "TypeCatalog",
    "fanout",
    "plugin_spec_schema",
]
