"""Effective database settings of one module and the K-14/K-14.1 merge rules that produce them.

``resolve_db_settings`` works on plain mappings so it does not depend on the config structs; the config layer
converts its ``DbServer``/``DbModule`` structs (e.g. with ``msgspec.structs.asdict``) and calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from ._errors import DbConfigError

Dialect = Literal["sqlite", "postgres"]

_SERVER_KEYS = frozenset({"engine", "dsn", "host", "port", "user", "password", "dbname", "params", "pool"})
_MODULE_KEYS = _SERVER_KEYS | {"server", "file", "path"}
_CONNECTION_KEYS = ("dsn", "host", "port", "user", "password", "dbname")
_POOL_KEYS = frozenset({"min_size", "max_size", "acquire_timeout", "max_inactive_lifetime"})
_SCHEMES: dict[str, Dialect] = {
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgresql+asyncpg": "postgres",
}
_SQLITE_PARAMS = ("wal", "journal_mode", "synchronous", "busy_timeout")
_JOURNAL_MODES = frozenset({"DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"})
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA", "0", "1", "2", "3"})
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """asyncpg pool sizing (PostgreSQL only); durations in seconds."""

    min_size: int = 1
    max_size: int = 10
    acquire_timeout: float = 10.0
    max_inactive_lifetime: float = 300.0


@dataclass(frozen=True, slots=True)
class SqlitePragmas:
    """Pragmas applied on every SQLite connection (K-14.3); ``foreign_keys`` is always ON."""

    journal_mode: str = "WAL"
    synchronous: str = "NORMAL"
    busy_timeout: int = 5000


@dataclass(frozen=True, slots=True)
class DbSettings:
    """The effective, merged database settings of one module.

    SQLite uses ``sqlite_path`` and ``pragmas``; PostgreSQL uses ``dsn`` and/or the discrete connection
    fields, ``params`` (extra DSN query parameters, e.g. ``sslmode``) and ``pool``. ``password`` and ``dsn``
    never appear in reprs.
    """

    engine: Dialect
    sqlite_path: Path | None = None
    pragmas: SqlitePragmas = field(default_factory=SqlitePragmas)
    dsn: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    dbname: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    pool: PoolSettings = field(default_factory=PoolSettings)
    server: str | None = None
    auto_provision: bool = True

    @classmethod
    def sqlite(cls, path: str | Path, **pragmas: Any) -> DbSettings:
        return cls(engine="sqlite", sqlite_path=Path(path), pragmas=SqlitePragmas(**pragmas))

    def describe(self) -> str:
        """A log/error-safe description of the target (no credentials)."""
        if self.engine == "sqlite":
            return f"sqlite:{self.sqlite_path}"
        if self.dsn:
            return redact_dsn(self.dsn)
        return f"postgres://{self.host or ''}:{self.port or ''}/{self.dbname or ''}"


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced, for messages."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "<unparsable dsn>"
    if parts.password is None:
        return dsn.split("?", 1)[0]
    netloc = parts.netloc.replace(f":{parts.password}@", ":[REDACTED]@", 1)
    return parts._replace(netloc=netloc, query="").geturl()


def resolve_db_settings(
    module_name: str,
    module_block: Mapping[str, Any] | None,
    servers: Mapping[str, Mapping[str, Any]],
    default_server: str | None,
    home_dir: str | Path,
    *,
    auto_provision: bool = True,
) -> DbSettings:
    """Merges a module's ``database`` block over its server (K-14, K-14.1).

    Module fields beat server fields, ``params`` merge (module wins), ``pool`` is replaced whole,
    ``file``/``path`` are module-only. Without a block (or with one naming no target of its own) the module
    uses ``default_server``, else its own SQLite file ``<home_dir>/<module>/<module>.sqlite``.
    """
    where = f"modules.{module_name}.database"
    home = Path(home_dir)
    block = dict(module_block or {})
    _reject_unknown(block, _MODULE_KEYS, where)
    server_name = block.pop("server", None)
    if server_name is None and default_server is not None and not _names_own_target(block):
        server_name = default_server
    server: dict[str, Any] = {}
    if server_name is not None:
        if server_name not in servers:
            known = ", ".join(sorted(servers)) or "none"
            raise DbConfigError(f"{where}.server: unknown database server {server_name!r} (known: {known})")
        server = dict(servers[server_name])
        _reject_unknown(server, _SERVER_KEYS, f"database.servers.{server_name}")

    file = block.pop("file", None)
    path = block.pop("path", None)
    merged = {**server, **{k: v for k, v in block.items() if v is not None and k not in ("params", "pool")}}
    params = {**_as_str_map(server.get("params"), where), **_as_str_map(block.get("params"), where)}
    pool_raw = block.get("pool") if block.get("pool") is not None else server.get("pool")
    engine = _infer_engine(merged, where)

    if engine == "sqlite":
        return _sqlite_settings(
            module_name, merged, params, file, path, home, where, server_name, auto_provision
        )
    if file is not None or path is not None:
        raise DbConfigError(f"{where}: 'file'/'path' apply to SQLite only, but the engine is postgres")
    dsn = merged.get("dsn")
    if dsn is None and merged.get("host") is None:
        raise DbConfigError(f"{where}: a postgres database needs 'dsn' or 'host'")
    return DbSettings(
        engine="postgres",
        dsn=dsn,
        host=merged.get("host"),
        port=_as_int(merged.get("port"), f"{where}.port") if merged.get("port") is not None else None,
        user=merged.get("user"),
        password=_reveal(merged.get("password")),
        dbname=merged.get("dbname"),
        params=params,
        pool=_pool(pool_raw, f"{where}.pool"),
        server=server_name,
        auto_provision=auto_provision,
    )


def _names_own_target(block: Mapping[str, Any]) -> bool:
    """A block without ``server`` that names no target of its own tunes the default server (e.g. its pool)."""
    return any(block.get(k) is not None for k in ("engine", "dsn", "host", "file", "path"))


def _infer_engine(merged: Mapping[str, Any], where: str) -> Dialect:
    declared = merged.get("engine")
    if declared is not None and declared not in ("sqlite", "postgres"):
        raise DbConfigError(f"{where}.engine: expected 'sqlite' or 'postgres', got {declared!r}")
    dsn = merged.get("dsn")
    from_dsn: Dialect | None = None
    if dsn is not None:
        scheme = str(dsn).split(":", 1)[0].lower() if ":" in str(dsn) else ""
        if scheme not in _SCHEMES:
            raise DbConfigError(
                f"{where}.dsn: unsupported scheme {scheme!r} (use sqlite://, postgres:// or postgresql://)"
            )
        from_dsn = _SCHEMES[scheme]
    if declared is not None and from_dsn is not None and declared != from_dsn:
        raise DbConfigError(f"{where}: engine {declared!r} conflicts with the {from_dsn} DSN")
    if from_dsn is not None:
        return from_dsn
    if declared is not None:
        return declared  # type: ignore[no-any-return]
    return "postgres" if merged.get("host") is not None else "sqlite"


def _sqlite_settings(
    module_name: str,
    merged: Mapping[str, Any],
    params: dict[str, str],
    file: Any,
    path: Any,
    home: Path,
    where: str,
    server_name: str | None,
    auto_provision: bool,
) -> DbSettings:
    for key in ("host", "port", "user", "password", "dbname"):
        if merged.get(key) is not None:
            raise DbConfigError(f"{where}.{key}: not supported by SQLite")
    if file is not None and path is not None:
        raise DbConfigError(f"{where}: set either 'file' or 'path', not both")
    dsn = merged.get("dsn")
    if dsn is not None:
        dsn_path, dsn_params = _split_sqlite_dsn(str(dsn), where)
        params = {**dsn_params, **params}
    if path is not None:
        target = Path(str(path))
    elif file is not None:
        if Path(str(file)).is_absolute():
            raise DbConfigError(f"{where}.file: must be relative to the module home; use 'path' for {file!r}")
        target = home / module_name / str(file)
    elif dsn is not None:
        target = Path(dsn_path)
    else:
        target = home / module_name / f"{module_name}.sqlite"
    if str(target) in (":memory:", "") or str(target).startswith("file::memory:"):
        raise DbConfigError(
            f"{where}: in-memory SQLite is not supported (every query opens a new connection)"
        )
    return DbSettings(
        engine="sqlite",
        sqlite_path=target,
        pragmas=_pragmas(params, where),
        server=server_name,
        auto_provision=auto_provision,
    )


def _split_sqlite_dsn(dsn: str, where: str) -> tuple[str, dict[str, str]]:
    rest = dsn.split(":", 1)[1]
    rest = rest.removeprefix("//")
    location, _, query = rest.partition("?")
    if not location:
        raise DbConfigError(f"{where}.dsn: the SQLite DSN names no file (e.g. sqlite:///var/lib/app.sqlite)")
    return location, dict(parse_qsl(query, keep_blank_values=True))


def _pragmas(params: Mapping[str, str], where: str) -> SqlitePragmas:
    unknown = sorted(set(params) - set(_SQLITE_PARAMS))
    if unknown:
        raise DbConfigError(
            f"{where}.params: SQLite accepts only {', '.join(_SQLITE_PARAMS)}; got {', '.join(unknown)}"
        )
    journal = "WAL"
    if "wal" in params:
        journal = "WAL" if _as_bool(params["wal"], f"{where}.params.wal") else "DELETE"
    if "journal_mode" in params:
        journal = params["journal_mode"].upper()
        if journal not in _JOURNAL_MODES:
            raise DbConfigError(
                f"{where}.params.journal_mode: expected one of {', '.join(sorted(_JOURNAL_MODES))}"
            )
    synchronous = params.get("synchronous", "NORMAL").upper()
    if synchronous not in _SYNCHRONOUS:
        raise DbConfigError(f"{where}.params.synchronous: expected OFF, NORMAL, FULL or EXTRA")
    busy = _as_int(params.get("busy_timeout", 5000), f"{where}.params.busy_timeout")
    if busy < 0:
        raise DbConfigError(f"{where}.params.busy_timeout: must be >= 0 (milliseconds)")
    return SqlitePragmas(journal_mode=journal, synchronous=synchronous, busy_timeout=busy)


def _pool(raw: Any, where: str) -> PoolSettings:
    if raw is None:
        return PoolSettings()
    if not isinstance(raw, Mapping):
        raise DbConfigError(f"{where}: expected a mapping")
    _reject_unknown(raw, _POOL_KEYS, where)
    default = PoolSettings()
    pool = PoolSettings(
        min_size=_as_int(raw.get("min_size", default.min_size), f"{where}.min_size"),
        max_size=_as_int(raw.get("max_size", default.max_size), f"{where}.max_size"),
        acquire_timeout=_seconds(
            raw.get("acquire_timeout", default.acquire_timeout), f"{where}.acquire_timeout"
        ),
        max_inactive_lifetime=_seconds(
            raw.get("max_inactive_lifetime", default.max_inactive_lifetime), f"{where}.max_inactive_lifetime"
        ),
    )
    if pool.min_size < 0 or pool.max_size < 1 or pool.min_size > pool.max_size:
        raise DbConfigError(f"{where}: need 0 <= min_size <= max_size and max_size >= 1")
    return pool


def _reject_unknown(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise DbConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _as_str_map(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise DbConfigError(f"{where}.params: expected a mapping")
    return {str(k): _param_str(v) for k, v in raw.items()}


def _param_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise DbConfigError(f"{where}: expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DbConfigError(f"{where}: expected an integer, got {value!r}") from None


def _as_bool(value: str, where: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise DbConfigError(f"{where}: expected true or false, got {value!r}")


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    raise DbConfigError(f"{where}: expected a duration (seconds or '<n>ms|s|m|h'), got {value!r}")


def _reveal(value: Any) -> str | None:
    if value is None:
        return None
    reveal = getattr(value, "reveal", None)
    return str(reveal()) if callable(reveal) else str(value)
