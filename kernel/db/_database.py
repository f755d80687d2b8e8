"""``Database``: one module's engine, transactions and raw kernel helpers (K-14.2, K-14.4)."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import string
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from ._engines import PoolPostgresEngine, PragmaSQLiteEngine
from ._errors import DbOpenError, TransactionModeError
from ._keys import module_schema
from ._settings import DbSettings, Dialect

# Arguments that QueryString expands into SQL text rather than binding.
_COMPOSITE = (QueryString, Column)
_PLAIN_TYPES = frozenset({str, int, float, bytes, bool, type(None), UUID, datetime, date})


def _plain(args: tuple[Any, ...]) -> bool:
    """No argument that QueryString would expand (checked by exact type first: ``Column`` is an ABC)."""
    return all(type(a) in _PLAIN_TYPES or not isinstance(a, _COMPOSITE) for a in args)


@functools.lru_cache(maxsize=4096)
def _sqlite_text(template: str, n_args: int) -> str:
    """A ``{}`` template as SQLite text, exactly as ``QueryString.compile_string`` spells it for plain args."""
    parts = [literal for literal, _, _, _ in string.Formatter().parse(template)]
    return "".join(part + ("?" if index < n_args else "") for index, part in enumerate(parts))


class Database:
    """A module's database. Build it with ``open_database``; close it at shutdown.

    Raw helpers take Piccolo-style ``{}`` placeholders (compiled to ``?`` or ``$n`` per dialect, values always
    bound), so one SQL text serves both engines. Raw SQL belongs to migrations and kernel code (K-13.4).
    """

    def __init__(self, module: str, dialect: Dialect, engine: Engine[Any], settings: DbSettings) -> None:
        self.module = module
        self.dialect: Dialect = dialect
        self.engine = engine
        self.settings = settings
        self.schema: str | None = module_schema(module) if dialect == "postgres" else None
        self._closed = False
        # SQLite only: an idle connection held open for the database's lifetime (see ``_open_sqlite``).
        self._keeper: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return (
            f"Database(module={self.module!r}, dialect={self.dialect!r}, target={self.settings.describe()!r})"
        )

    @property
    def closed(self) -> bool:
        return self._closed

    def in_transaction(self) -> bool:
        return self.engine.transaction_exists()

    @asynccontextmanager
    async def transaction(self, write: bool = False) -> AsyncIterator[Any]:
        """A transaction bound to the current task (and tasks it creates); nested calls join the outer one.

        ``write=True`` makes a SQLite transaction ``BEGIN IMMEDIATE`` so a read-then-write cannot fail with
        "database is locked" on lock upgrade; always pass it when the transaction may write.
        """
        if self.dialect == "sqlite":
            outer = self.engine.current_transaction.get()
            if write and outer is not None and outer.transaction_type is not TransactionType.immediate:
                raise TransactionModeError("a write transaction cannot join a read-only SQLite transaction")
            kind = TransactionType.immediate if write else TransactionType.deferred
            async with self.engine.transaction(transaction_type=kind) as txn:  # type: ignore[call-arg]
                yield txn
        else:
            async with self.engine.transaction() as txn:
                yield txn

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Runs one statement and returns its rows as dicts."""
        engine = self.engine
        if isinstance(engine, PragmaSQLiteEngine) and _plain(args):
            # Piccolo re-parses the template on every call; the compiled text only depends on it.
            return await engine.run_compiled(_sqlite_text(sql, len(args)), args)  # type: ignore[no-any-return]
        rows = await engine.run_querystring(QueryString(sql, *args))
        return [dict(row) for row in rows or ()]

    async def fetch_one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self.engine.run_querystring(QueryString(sql, *args))

    async def run_ddl(self, sql: str) -> None:
        """Runs a DDL statement as is (no placeholders)."""
        await self.engine.run_ddl(sql)

    def bind(self, *tables: type[Table]) -> None:
        """Binds the module's own Piccolo ``Table`` classes to this engine (a class binds one engine)."""
        for table in tables:
            table._meta.db = self.engine

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if isinstance(self.engine, PragmaSQLiteEngine):
            await self.engine.close_pool()
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if isinstance(self.engine, PoolPostgresEngine) and self.engine.pool is not None:
            await self.engine.close_connection_pool()


async def open_database(
    module_name: str, settings: DbSettings, *, auto_provision: bool | None = None
) -> Database:
    """Opens (with ``auto_provision``: creates) a module's database: a SQLite file or a PG schema + pool."""
    provision = settings.auto_provision if auto_provision is None else auto_provision
    if settings.engine == "sqlite":
        return await _open_sqlite(module_name, settings, provision)
    return await _open_postgres(module_name, settings, provision)


async def _open_sqlite(module_name: str, settings: DbSettings, provision: bool) -> Database:
    if settings.sqlite_path is None:
        raise DbOpenError(f"database of module '{module_name}': no SQLite path")
    path = Path(settings.sqlite_path)
    if not path.parent.exists():
        if not provision:
            raise DbOpenError(
                f"database of module '{module_name}': folder {path.parent} does not exist "
                "(database.auto_provision is false)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = PragmaSQLiteEngine(str(path), settings.pragmas)
    db = Database(module_name, "sqlite", engine, settings)
    try:
        # The journal mode is a property of the file; set it once up front, before any concurrency.
        await db.fetch("SELECT 1")
        # Piccolo closes its connection after every transaction; when the last connection to a WAL database
        # closes, SQLite checkpoints and deletes the WAL (with fsyncs), which made every write transaction cost
        # ~15 ms instead of ~2 ms. An idle keeper connection (no open statement, so it never pins the WAL)
        # keeps the file open.
        keeper = sqlite3.connect(str(path), check_same_thread=False)
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
        db._keeper = keeper
    except Exception as exc:
        raise DbOpenError(f"database of module '{module_name}': cannot open {path}: {exc}") from exc
    return db


def postgres_connect_config(settings: DbSettings, *, schema: str | None) -> dict[str, Any]:
    """asyncpg ``connect``/``create_pool`` keyword arguments for the settings."""
    config: dict[str, Any] = {}
    dsn = settings.dsn
    if settings.params:
        query = urlencode(dict(settings.params))
        separator = "&" if dsn and "?" in dsn else "?"
        dsn = f"{dsn or 'postgresql://'}{separator}{query}"
    if dsn is not None:
        config["dsn"] = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)
    for key, target in (("host", "host"), ("port", "port"), ("user", "user"), ("password", "password")):
        value = getattr(settings, key)
        if value is not None:
            config[target] = value
    if settings.dbname is not None:
        config["database"] = settings.dbname
    if schema is not None:
        config["server_settings"] = {"search_path": _quote_ident(schema)}
    return config


async def _open_postgres(module_name: str, settings: DbSettings, provision: bool) -> Database:
    import asyncpg  # the `postgres` extra: SQLite-only installs never import it

    schema = module_schema(module_name)
    target = settings.describe()
    try:
        await _ensure_schema(postgres_connect_config(settings, schema=None), schema, provision, target)
        engine = PoolPostgresEngine(
            postgres_connect_config(settings, schema=schema), acquire_timeout=settings.pool.acquire_timeout
        )
        await engine.start_connection_pool(
            min_size=settings.pool.min_size,
            max_size=settings.pool.max_size,
            max_inactive_connection_lifetime=settings.pool.max_inactive_lifetime,
        )
    except DbOpenError:
        raise
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DbOpenError(f"database of module '{module_name}': cannot connect to {target}: {exc}") from exc
    return Database(module_name, "postgres", engine, settings)


async def _ensure_schema(config: Mapping[str, Any], schema: str, provision: bool, target: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(**config)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema)
        if exists:
            return
        if not provision:
            raise DbOpenError(
                f"schema {schema!r} does not exist in {target} (database.auto_provision is false)"
            )
        try:
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(schema)}")
        except asyncpg.UniqueViolationError:
            pass  # another process created it concurrently
    finally:
        await connection.close()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DatabaseCache:
    """One open ``Database`` per module (K-14.2); the runtime closes them all at shutdown."""

    def __init__(self) -> None:
        self._databases: dict[str, Database] = {}
        self._lock = asyncio.Lock()

    async def get(
        self, module_name: str, settings: DbSettings, *, auto_provision: bool | None = None
    ) -> Database:
        async with self._lock:
            db = self._databases.get(module_name)
            if db is None or db.closed:
                db = await open_database(module_name, settings, auto_provision=auto_provision)
                self._databases[module_name] = db
            return db

    def peek(self, module_name: str) -> Database | None:
        return self._databases.get(module_name)

    async def close_all(self) -> None:
        databases, self._databases = list(self._databases.values()), {}
        for db in reversed(databases):
            await db.close()
