"""The top-level config model (K-4.3). Module and plugin ``config`` stays raw: the runtime converts it with
each module's own ``config_type`` once it knows which modules are installed."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from .db import DbModule, DbServer
from .redact import redact
from .types import ByteSize, ConfigStruct, Duration, InvalidConfigValue

TOP_LEVEL_KEYS = ("server", "runtime", "database", "logging", "modules", "plugins")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
PHASES = ("db", "init", "plugins", "post_init", "start", "stop")

# One id per process, so that every config loaded in this process (and every log line) agrees on it.
PROCESS_INSTANCE_ID = str(uuid.uuid4())


def _process_instance_id() -> str:
    return PROCESS_INSTANCE_ID


class ServerConfig(ConfigStruct):
    name: str = "fabrikit"
    home_dir: pathlib.Path = pathlib.Path("./.fabrikit")
    instance_id: str = msgspec.field(default_factory=_process_instance_id)

    def validate(self) -> None:
        if not self.name.strip():
            raise InvalidConfigValue("name", "must not be empty")
        if not self.instance_id.strip():
            raise InvalidConfigValue("instance_id", "must not be empty")


class PhaseTimeouts(ConfigStruct):
    """``runtime.timeouts``: per-phase limits for every module (defaults from the K-6 table)."""

    db: Duration = Duration(300)
    init: Duration = Duration(30)
    plugins: Duration = Duration(10)
    post_init: Duration = Duration(60)
    start: Duration = Duration(30)
    stop: Duration = Duration(30)


class ModuleTimeouts(ConfigStruct):
    """``runtime.module_timeouts.<module>``: only the phases given override anything."""

    db: Duration | None = None
    init: Duration | None = None
    plugins: Duration | None = None
    post_init: Duration | None = None
    start: Duration | None = None
    stop: Duration | None = None


class RuntimeConfig(ConfigStruct):
    timeouts: PhaseTimeouts = msgspec.field(default_factory=PhaseTimeouts)
    module_timeouts: dict[str, ModuleTimeouts] = {}
    shutdown_budget: Duration = Duration(30)
    on_module_failure: Literal["keep", "exit"] = "keep"
    # After start-up, move the start-up heap to the collector's permanent generation (see freeze_startup_heap).
    freeze_heap: bool = True

    def phase_timeout(self, phase: str, module: str | None = None, manifest: Any = None) -> float:
        """K-6.2 precedence: ``module_timeouts.<m>`` > manifest > ``runtime.timeouts`` (defaults = the table).

        ``manifest`` is the module's ``manifest.timeouts``: a mapping or an object with phase attributes.
        """
        if phase not in PHASES:
            raise ValueError(f"unknown phase '{phase}'; expected one of {', '.join(PHASES)}")
        if module is not None and module in self.module_timeouts:
            override = getattr(self.module_timeouts[module], phase)
            if override is not None:
                return float(override)
        if manifest is not None:
            value = manifest.get(phase) if isinstance(manifest, Mapping) else getattr(manifest, phase, None)
            if value is not None:
                return float(Duration.parse(value))
        return float(getattr(self.timeouts, phase))


class DatabaseConfig(ConfigStruct):
    servers: dict[str, DbServer] = {}
    default_server: str | None = None
    auto_provision: bool = True

    def validate(self) -> None:
        if self.default_server is not None and self.default_server not in self.servers:
            known = ", ".join(sorted(self.servers)) or "none defined"
            raise InvalidConfigValue(
                "default_server", f"'{self.default_server}' is not a server under database.servers ({known})"
            )


class LogFileConfig(ConfigStruct):
    path: pathlib.Path
    max_bytes: ByteSize = ByteSize(10 * 1024 * 1024)
    backups: int = 5

    def validate(self) -> None:
        if self.max_bytes < 1:
            raise InvalidConfigValue("max_bytes", "must be at least 1 byte")
        if self.backups < 0:
            raise InvalidConfigValue("backups", "must be >= 0")


def _check_level(field: str, level: str) -> None:
    if level.lower() not in LOG_LEVELS:
        raise InvalidConfigValue(
            field, f"unknown log level '{level}'; expected one of {', '.join(LOG_LEVELS)}"
        )


class LoggingConfig(ConfigStruct):
    level: str = "info"
    format: Literal["auto", "json", "console"] = "auto"
    levels: dict[str, str] = {}
    file: LogFileConfig | None = None

    def validate(self) -> None:
        problems: list[ValueError] = []
        for field, level in [("level", self.level), *((f"levels.{n}", v) for n, v in self.levels.items())]:
            try:
                _check_level(field, level)
            except ValueError as exc:
                problems.append(exc)
        if problems:
            raise ExceptionGroup("invalid log levels", problems)


def _redacted_repr(struct: msgspec.Struct, skip: tuple[str, ...] = ()) -> str:
    # Raw config holds secrets as plain strings until the module's own config_type wraps them.
    fields = ", ".join(
        f"{name}={redact(getattr(struct, name))!r}" for name in struct.__struct_fields__ if name not in skip
    )
    return f"{type(struct).__name__}({fields})"


class ModuleEntry(ConfigStruct):
    """``modules.<name>``: a null entry means enabled with defaults."""

    config: dict[str, Any] = {}
    database: DbModule | None = None

    def __repr__(self) -> str:
        return _redacted_repr(self)


class PluginEntry(ConfigStruct):
    """``plugins.<name>``."""

    enabled: bool = True
    vendor: str | None = None
    priority: int | None = None
    config: dict[str, Any] = {}

    def __repr__(self) -> str:
        return _redacted_repr(self)


class AppConfig(msgspec.Struct, kw_only=True, frozen=True):
    """The validated configuration. ``raw`` is the effective mapping after expansion and overrides (what
    ``check --print-config`` shows, through ``redact``); ``source`` says where it came from."""

    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    runtime: RuntimeConfig = msgspec.field(default_factory=RuntimeConfig)
    database: DatabaseConfig = msgspec.field(default_factory=DatabaseConfig)
    logging: LoggingConfig = msgspec.field(default_factory=LoggingConfig)
    modules: dict[str, ModuleEntry] = {}
    plugins: dict[str, PluginEntry] = {}
    raw: dict[str, Any] = {}
    source: str = "<defaults>"

    def __repr__(self) -> str:
        return _redacted_repr(self, skip=("raw",))

    def module_config(self, name: str) -> dict[str, Any]:
        """The raw ``modules.<name>.config`` mapping (empty when absent), for the module's ``config_type``."""
        entry = self.modules.get(name)
        return dict(entry.config) if entry is not None else {}

    def plugin_config(self, name: str) -> dict[str, Any]:
        entry = self.plugins.get(name)
        return dict(entry.config) if entry is not None else {}
