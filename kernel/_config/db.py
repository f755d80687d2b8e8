"""Database config blocks (K-14): ``database.servers.<name>`` and ``modules.<name>.database``.

Merging a module block over its server (module wins, ``params`` merge, ``pool`` replaced whole,
``file``/``path`` not inherited) belongs to ``fabrikit.kernel.db``; these structs only check what one block
can check alone.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from fabrikit.kernel.security import Secret

from .types import ConfigStruct, Duration, InvalidConfigValue

Engine = Literal["sqlite", "postgres"]

_SCHEME_ENGINES: dict[str, Engine] = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgresql+asyncpg": "postgres",
}


def engine_from_dsn(dsn: str) -> Engine | None:
    """The engine a DSN's scheme names, or ``None`` when the scheme is not one fabrikit knows."""
    return _SCHEME_ENGINES.get(urlsplit(dsn).scheme.lower())


def _check_engine(engine: Engine | None, dsn: Secret | None) -> Engine | None:
    if dsn is None:
        return engine
    inferred = engine_from_dsn(dsn.reveal())
    if inferred is None:
        scheme = urlsplit(dsn.reveal()).scheme or "(none)"
        raise InvalidConfigValue(
            "dsn", f"unknown DSN scheme '{scheme}'; use sqlite:// or postgresql:// (postgres://)"
        )
    if engine is not None and engine != inferred:
        raise InvalidConfigValue(
            "engine", f"engine '{engine}' conflicts with the DSN, which names '{inferred}'"
        )
    return inferred


class PoolConfig(ConfigStruct):
    """Connection pool (PostgreSQL)."""

    min_size: int = 1
    max_size: int = 10
    acquire_timeout: Duration = Duration(10)
    max_inactive_lifetime: Duration = Duration(300)

    def validate(self) -> None:
        if self.min_size < 0:
            raise InvalidConfigValue("min_size", "must be >= 0")
        if self.max_size < 1:
            raise InvalidConfigValue("max_size", "must be >= 1")
        if self.min_size > self.max_size:
            raise InvalidConfigValue("min_size", f"must not exceed max_size ({self.max_size})")


class DbServer(ConfigStruct):
    """A server under ``database.servers``. The DSN is a ``Secret``: it may embed a password."""

    engine: Engine | None = None
    dsn: Secret | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: Secret | None = None
    dbname: str | None = None
    params: dict[str, Any] = {}
    pool: PoolConfig = msgspec.field(default_factory=PoolConfig)

    @property
    def effective_engine(self) -> Engine:
        """The declared or DSN-inferred engine (``validate`` guarantees one of them is there)."""
        return _check_engine(self.engine, self.dsn) or "sqlite"

    def validate(self) -> None:
        if _check_engine(self.engine, self.dsn) is None:
            raise InvalidConfigValue("engine", "set 'engine' (sqlite or postgres) or a 'dsn'")
        if self.port is not None and not 0 < self.port < 65536:
            raise InvalidConfigValue("port", f"must be between 1 and 65535, got {self.port}")


class DbModule(ConfigStruct):
    """A module's ``database`` block: every field optional so that unset ones inherit from the server."""

    server: str | None = None
    file: str | None = None
    path: str | None = None
    engine: Engine | None = None
    dsn: Secret | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: Secret | None = None
    dbname: str | None = None
    params: dict[str, Any] | None = None
    pool: PoolConfig | None = None

    def validate(self) -> None:
        _check_engine(self.engine, self.dsn)
        if self.file is not None and self.path is not None:
            raise InvalidConfigValue("path", "set either 'file' (under the module home) or 'path', not both")
        if self.port is not None and not 0 < self.port < 65536:
            raise InvalidConfigValue("port", f"must be between 1 and 65535, got {self.port}")
