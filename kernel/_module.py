"""The module contract: a manifest, a config type and lifecycle methods (K-2)."""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from ._config.types import ConfigStruct

if TYPE_CHECKING:
    from ._context import ModuleContext, SystemContext

MODULE_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_VERSION_RE = re.compile(r"^\d+(\.\d+)*([abc]|rc)?\d*(\.post\d+)?(\.dev\d+)?$")


class ManifestError(TypeError):
    """A module class is malformed; raised when the class is defined."""


class Capability(enum.StrEnum):
    DB = "db"
    REST = "rest"
    REST_HOST = "rest_host"
    STATEFUL = "stateful"
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: str | Capability) -> Capability:
        if isinstance(value, Capability):
            return value
        try:
            return cls(value)
        except ValueError:
            names = [c.value for c in cls]
            close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ManifestError(f"unknown capability '{value}'{hint}; known: {', '.join(names)}") from None


PHASES = ("pre_init", "db", "init", "plugins", "post_init", "rest", "start", "stop")


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str = "0.0.0"
    deps: tuple[str, ...] = ()
    optional_deps: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    await_ready: bool = False
    stop_timeout: float = 20.0
    timeouts: Mapping[str, float] | None = None
    description: str = ""

    def __init__(
        self,
        name: str,
        version: str = "0.0.0",
        deps: Sequence[str] = (),
        optional_deps: Sequence[str] = (),
        capabilities: Sequence[Capability | str] | frozenset[Capability] | set[Capability] = (),
        await_ready: bool = False,
        stop_timeout: float = 20.0,
        timeouts: Mapping[str, float] | None = None,
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not MODULE_NAME_RE.match(name):
            hint = name.replace("_", "-").lower() if isinstance(name, str) else "my-module"
            raise ManifestError(f"invalid module name '{name}': use kebab-case, e.g. '{hint}'")
        if not _VERSION_RE.match(version):
            raise ManifestError(f"module '{name}': version '{version}' is not a PEP 440 version")
        for phase in timeouts or {}:
            if phase not in PHASES:
                raise ManifestError(f"module '{name}': unknown phase '{phase}' in timeouts")
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "version", version)
        set_(self, "deps", tuple(_dep_name(d) for d in deps))
        set_(self, "optional_deps", tuple(_dep_name(d) for d in optional_deps))
        set_(self, "capabilities", frozenset(Capability.parse(c) for c in capabilities))
        set_(self, "await_ready", await_ready)
        set_(self, "stop_timeout", float(stop_timeout))
        set_(self, "timeouts", dict(timeouts) if timeouts else None)
        set_(self, "description", description)
        set_(self, "_dep_specs", {_dep_name(d): _dep_spec(d) for d in (*deps, *optional_deps)})

    def has(self, cap: Capability) -> bool:
        return cap in self.capabilities

    def dep_specifier(self, dep: str) -> str:
        specs: dict[str, str] = object.__getattribute__(self, "_dep_specs")
        return specs.get(dep, "")


# The name must be kebab-case and be followed by nothing or a specifier operator, so that "mini_chat"
# is rejected instead of being read as a dependency on "mini" with the specifier "_chat".
_DEP_RE = re.compile(r"^\s*([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\s*((?:[<>=!~].*)?)$")


def _dep_name(dep: str) -> str:
    m = _DEP_RE.match(dep)
    if not m:
        raise ManifestError(f"invalid dependency '{dep}'")
    return m.group(1)


def _dep_spec(dep: str) -> str:
    m = _DEP_RE.match(dep)
    return m.group(2).strip() if m else ""


_CAPABILITY_METHODS: Mapping[Capability, tuple[str, ...]] = {
    Capability.DB: ("migrations",),
    Capability.REST: ("register_rest",),
    Capability.REST_HOST: ("rest_prepare", "rest_finalize"),
    Capability.STATEFUL: ("start", "stop"),
    Capability.SYSTEM: (),
}


class Module:
    """Base class of every fabrikit module. Instantiated once per process, without arguments."""

    manifest: ClassVar[Manifest]
    config_type: ClassVar[type[ConfigStruct]] = ConfigStruct

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        manifest = cls.__dict__.get("manifest")
        if not isinstance(manifest, Manifest):
            raise ManifestError(f"module class {cls.__qualname__} must set `manifest = Manifest(...)`")
        if not (isinstance(cls.config_type, type) and issubclass(cls.config_type, msgspec.Struct)):
            raise ManifestError(
                f"module '{manifest.name}': config_type must be a ConfigStruct subclass, got {cls.config_type!r}"
            )
        for cap in manifest.capabilities:
            for method in _CAPABILITY_METHODS[cap]:
                if getattr(cls, method, None) is getattr(Module, method, None):
                    raise ManifestError(
                        f"module '{manifest.name}' declares capability '{cap.value}' but does not define {method}()"
                    )

    # --- every module -------------------------------------------------------------------------
    async def init(self, ctx: ModuleContext) -> None:
        """Wiring only: register clients, build services. No I/O, no tasks."""

    # --- db ------------------------------------------------------------------------------------
    def tables(self) -> Sequence[type[Any]]:
        return ()

    def migrations(self) -> Sequence[Any]:
        return ()

    # --- rest ----------------------------------------------------------------------------------
    def register_rest(self, ctx: ModuleContext, rest: Any) -> None:
        return None

    # --- rest_host -----------------------------------------------------------------------------
    def rest_prepare(self, ctx: ModuleContext) -> Any:
        return None

    def rest_finalize(self, ctx: ModuleContext, rest: Any) -> None:
        return None

    # --- stateful ------------------------------------------------------------------------------
    async def start(self, ctx: ModuleContext) -> None:
        return None

    async def stop(self, ctx: ModuleContext) -> None:
        return None

    # --- system --------------------------------------------------------------------------------
    def pre_init(self, sys: SystemContext) -> None:
        return None

    async def post_init(self, sys: SystemContext) -> None:
        return None


@dataclass(frozen=True)
class ModuleSource:
    """Where a module class came from: a distribution and entry point, or ``extra`` objects."""

    module_cls: type[Module]
    distribution: str = "<extra>"
    entry_point: str = ""

    @property
    def name(self) -> str:
        return self.module_cls.manifest.name

    @property
    def manifest(self) -> Manifest:
        return self.module_cls.manifest


@dataclass
class ModuleInfo:
    """Static description used by the resolver (decoupled from the class for benchmarks and tests)."""

    name: str
    deps: tuple[str, ...] = ()
    optional_deps: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = field(default_factory=frozenset)
    distribution: str = "<extra>"
    version: str = "0.0.0"
    dep_specs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_source(cls, src: ModuleSource) -> ModuleInfo:
        m = src.manifest
        return cls(
            name=m.name,
            deps=m.deps,
            optional_deps=m.optional_deps,
            capabilities=m.capabilities,
            distribution=src.distribution,
            version=m.version,
            dep_specs={d: m.dep_specifier(d) for d in (*m.deps, *m.optional_deps) if m.dep_specifier(d)},
        )
