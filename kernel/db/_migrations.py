"""Kernel migrations: ordered, recorded, one transaction each, serialised (K-14.5, K-14.6)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from piccolo.columns import Column
from piccolo.table import Table

from ._database import Database
from ._errors import MigrationError
from ._keys import advisory_key

_log = structlog.get_logger("fabrikit.db")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward migration; ``up(mctx)`` runs inside the migration's own transaction."""

    name: str
    up: Callable[[MigrationContext], Awaitable[None]]


class MigrationContext:
    """What a migration may do. Everything runs in the migration's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.dialect
        self.module = db.module

    async def execute(self, sql: str, *args: Any) -> None:
        """Runs raw SQL; ``{}`` placeholders bind ``args`` (without args the text runs as DDL, as is)."""
        if args:
            await self.db.execute(sql, *args)
        else:
            await self.db.run_ddl(sql)

    async def create_tables(self, *tables: type[Table]) -> None:
        """``CREATE TABLE IF NOT EXISTS`` for Piccolo tables (binding them to this module's engine first)."""
        self.db.bind(*tables)
        for table in tables:
            for ddl in table.create_table(if_not_exists=True).ddl:
                await self.db.run_ddl(ddl)

    async def create_index(
        self,
        name: str,
        table: str | type[Table],
        cols: Sequence[str | Column] | str,
        unique: bool = False,
        where: str | None = None,
    ) -> None:
        """``CREATE [UNIQUE] INDEX IF NOT EXISTS`` — also for composite/partial uniqueness (§20)."""
        table_name = table if isinstance(table, str) else table._meta.tablename
        columns = [cols] if isinstance(cols, str) else list(cols)
        if not columns:
            raise MigrationError(f"index {name!r} has no columns", module=self.module)
        col_names = [c if isinstance(c, str) else c._meta.db_column_name for c in columns]
        for ident in (name, table_name, *col_names):
            if not _IDENT_RE.match(ident):
                raise MigrationError(
                    f"index {name!r}: {ident!r} is not a plain SQL identifier", module=self.module
                )
        sql = (
            f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {_q(name)} "
            f"ON {_q(table_name)} ({', '.join(_q(c) for c in col_names)})"
        )
        if where:
            sql += f" WHERE {where}"
        await self.db.run_ddl(sql)


def history_table_name(module: str) -> str:
    """``fabrikit_migrations__<sanitized module, ≤40>__<first 8 hex of SHA-256(module)>`` (K-14.5)."""
    sanitized = re.sub(r"[^a-z0-9_]", "_", module.lower())[:40]
    digest = hashlib.sha256(module.encode("utf-8")).hexdigest()[:8]
    return f"fabrikit_migrations__{sanitized}__{digest}"


async def run_migrations(
    db: Database,
    module_name: str,
    migrations: Iterable[Migration],
    *,
    fabrikit_version: str,
    on_applied: Callable[[str, int], None] | None = None,
) -> list[str]:
    """Applies the pending migrations in name order and returns their names.

    Each migration's ``up`` and its history row commit together; a failure raises ``MigrationError`` (with the
    cause chained) and leaves earlier migrations applied. ``on_applied(name, duration_ms)`` runs after each
    commit.
    """
    ordered = _validated(module_name, migrations)
    table = history_table_name(module_name)
    applied: list[str] = []
    async with _migration_lock(db, module_name):
        await _ensure_history_table(db, table)
        recorded = {row["name"] for row in await db.fetch(f"SELECT name FROM {_q(table)}")}
        _warn_unknown(module_name, recorded, ordered)
        for migration in ordered:
            if migration.name in recorded:
                continue
            duration_ms = await _apply(db, module_name, table, migration, fabrikit_version)
            if duration_ms is None:
                continue
            applied.append(migration.name)
            _log.info(
                "migration_applied", module=module_name, migration=migration.name, duration_ms=duration_ms
            )
            if on_applied is not None:
                on_applied(migration.name, duration_ms)
    return applied


async def migration_status(
    db: Database, module_name: str, migrations: Iterable[Migration]
) -> list[tuple[str, datetime | None]]:
    """Each known migration in name order with its ``applied_at`` (``None`` = pending)."""
    ordered = _validated(module_name, migrations)
    table = history_table_name(module_name)
    applied_at: dict[str, datetime] = {}
    if await _table_exists(db, table):
        rows = await db.fetch(f"SELECT name, applied_at FROM {_q(table)}")
        applied_at = {row["name"]: row["applied_at"] for row in rows}
    return [(m.name, applied_at.get(m.name)) for m in ordered]


def _validated(module_name: str, migrations: Iterable[Migration]) -> list[Migration]:
    seen: set[str] = set()
    items = list(migrations)
    for migration in items:
        if not isinstance(migration, Migration):
            raise MigrationError(
                f"expected Migration objects, got {type(migration).__name__}", module=module_name
            )
        if not migration.name or not migration.name.strip():
            raise MigrationError("a migration has an empty name", module=module_name)
        if migration.name in seen:
            raise MigrationError(
                f"module '{module_name}' declares migration {migration.name!r} twice",
                module=module_name,
                migration=migration.name,
            )
        seen.add(migration.name)
    return sorted(items, key=lambda m: m.name)


async def _apply(db: Database, module: str, table: str, migration: Migration, version: str) -> int | None:
    """Runs one migration; ``None`` when another process recorded it meanwhile (SQLite has no run lock)."""
    started = time.perf_counter()
    try:
        async with db.transaction(write=True):
            if await db.fetch_one(f"SELECT 1 AS one FROM {_q(table)} WHERE name = {{}}", migration.name):
                return None
            await migration.up(MigrationContext(db))
            duration_ms = int((time.perf_counter() - started) * 1000)
            await db.execute(
                f"INSERT INTO {_q(table)} (name, applied_at, duration_ms, fabrikit_version) "
                "VALUES ({}, {}, {}, {})",
                migration.name,
                datetime.now(UTC),
                duration_ms,
                version,
            )
    except MigrationError as exc:
        if exc.migration is None:
            exc.migration = migration.name
        raise
    except Exception as exc:
        raise MigrationError(
            f"migration {migration.name!r} of module '{module}' failed: {type(exc).__name__}: {exc}",
            module=module,
            migration=migration.name,
        ) from exc
    return duration_ms


def _warn_unknown(module: str, recorded: set[str], ordered: Sequence[Migration]) -> None:
    unknown = sorted(recorded - {m.name for m in ordered})
    for name in unknown:
        _log.warning("migration_unknown_applied", module=module, migration=name)


async def _ensure_history_table(db: Database, table: str) -> None:
    int_type = "BIGINT" if db.dialect == "postgres" else "INTEGER"
    await db.run_ddl(
        f"CREATE TABLE IF NOT EXISTS {_q(table)} ("
        "name TEXT PRIMARY KEY, "
        "applied_at TIMESTAMPTZ NOT NULL, "
        f"duration_ms {int_type} NOT NULL, "
        "fabrikit_version TEXT NOT NULL)"
    )


async def _table_exists(db: Database, table: str) -> bool:
    if db.dialect == "sqlite":
        sql = "SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = {}"
    else:
        sql = (
            "SELECT 1 AS one FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = {}"
        )
    return await db.fetch_one(sql, table) is not None


@asynccontextmanager
async def _migration_lock(db: Database, module: str) -> AsyncIterator[None]:
    """PostgreSQL: a session advisory lock on a dedicated connection for the whole run (K-14.6).

    The connection is outside the pool so a pool of one connection cannot deadlock against the lock holder.
    SQLite needs nothing: every migration is ``BEGIN IMMEDIATE`` and re-checks the history inside.
    """
    if db.dialect != "postgres":
        yield
        return
    connection = await db.engine.get_new_connection()  # type: ignore[attr-defined]
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", advisory_key(f"fabrikit:migrate:{module}"))
        try:
            yield
        finally:
            if not connection.is_closed():
                await connection.execute(
                    "SELECT pg_advisory_unlock($1)", advisory_key(f"fabrikit:migrate:{module}")
                )
    finally:
        await connection.close()


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'
