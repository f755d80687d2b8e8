"""K-14.2–K-14.4: engines, pragmas on every connection, transactions, binding, isolation."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from piccolo.columns import UUID, ForeignKey, Integer, Varchar
from piccolo.table import Table

from fabrikit.kernel.db import (
    Database,
    DatabaseCache,
    DbOpenError,
    DbSettings,
    TransactionModeError,
    open_database,
    resolve_db_settings,
)


def make_tables() -> tuple[Any, Any]:
    """A fresh pair of Piccolo classes per test: a class binds exactly one engine."""

    class Parent(Table, tablename="parent"):
        id = UUID(primary_key=True)
        name = Varchar(length=50)

    class Child(Table, tablename="child"):
        parent = ForeignKey(references=Parent)
        n = Integer()

    return Parent, Child


@pytest.fixture
async def sqlite_db(tmp_path: Path, module_name: str) -> AsyncIterator[Database]:
    db = await open_database(module_name, resolve_db_settings(module_name, None, {}, None, tmp_path))
    yield db
    await db.close()


async def _pragmas(db: Database) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys"):
        row = await db.fetch_one(f"PRAGMA {name}")
        assert row is not None
        out[name] = next(iter(row.values()))
    return out


EXPECTED = {"journal_mode": "wal", "busy_timeout": 5000, "synchronous": 1, "foreign_keys": 1}


async def test_sqlite_pragmas_on_every_connection(sqlite_db: Database) -> None:
    # Outside a transaction each query opens its own connection.
    assert await _pragmas(sqlite_db) == EXPECTED
    assert await _pragmas(sqlite_db) == EXPECTED
    async with sqlite_db.transaction():
        assert await _pragmas(sqlite_db) == EXPECTED
    async with sqlite_db.transaction(write=True):
        assert await _pragmas(sqlite_db) == EXPECTED
    connection = await sqlite_db.engine.get_connection()  # type: ignore[attr-defined]
    try:
        cursor = await connection.execute("PRAGMA busy_timeout")
        assert await cursor.fetchone() == {"timeout": 5000}
    finally:
        await connection.close()


async def test_sqlite_pragmas_also_on_piccolo_query_connections(sqlite_db: Database) -> None:
    parent, child = make_tables()
    sqlite_db.bind(parent, child)
    assert await parent.raw("PRAGMA busy_timeout") == [{"timeout": 5000}]
    assert await parent.raw("PRAGMA synchronous") == [{"synchronous": 1}]


async def test_sqlite_params_change_pragmas(tmp_path: Path) -> None:
    block = {"params": {"synchronous": "FULL", "busy_timeout": "1234"}}
    db = await open_database("tuned", resolve_db_settings("tuned", block, {}, None, tmp_path))
    try:
        assert await _pragmas(db) == {**EXPECTED, "busy_timeout": 1234, "synchronous": 2}
    finally:
        await db.close()


async def test_sqlite_write_transactions_are_immediate(sqlite_db: Database) -> None:
    await sqlite_db.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    await sqlite_db.execute("INSERT INTO counter VALUES (1, 0)")

    async def bump() -> None:
        async with sqlite_db.transaction(write=True):
            row = await sqlite_db.fetch_one("SELECT value FROM counter WHERE id = 1")
            assert row is not None
            await asyncio.sleep(0.05)
            await sqlite_db.execute("UPDATE counter SET value = {} WHERE id = 1", row["value"] + 1)

    await asyncio.gather(bump(), bump(), bump())
    assert await sqlite_db.fetch("SELECT value FROM counter") == [{"value": 3}]


async def test_sqlite_deferred_read_then_write_fails_which_is_why_write_exists(sqlite_db: Database) -> None:
    """The counter-example: without IMMEDIATE the second upgrade fails (shows the test above can fail)."""
    await sqlite_db.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    await sqlite_db.execute("INSERT INTO counter VALUES (1, 0)")

    async def bump() -> None:
        async with sqlite_db.transaction():
            row = await sqlite_db.fetch_one("SELECT value FROM counter WHERE id = 1")
            assert row is not None
            await asyncio.sleep(0.05)
            await sqlite_db.execute("UPDATE counter SET value = {} WHERE id = 1", row["value"] + 1)

    results = await asyncio.gather(bump(), bump(), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], sqlite3.OperationalError)
    assert "locked" in str(errors[0])


async def test_write_inside_read_only_sqlite_transaction_is_refused(sqlite_db: Database) -> None:
    async with sqlite_db.transaction():
        with pytest.raises(TransactionModeError):
            async with sqlite_db.transaction(write=True):
                pass
    async with sqlite_db.transaction(write=True), sqlite_db.transaction(write=True):
        assert sqlite_db.in_transaction()


async def test_transaction_commits_and_rolls_back(db: Database) -> None:
    await db.run_ddl("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    async with db.transaction(write=True):
        await db.execute("INSERT INTO items VALUES ({}, {})", 1, "kept")

    async def failing() -> None:
        async with db.transaction(write=True):
            await db.execute("INSERT INTO items VALUES ({}, {})", 2, "dropped")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    assert await db.fetch("SELECT id, name FROM items ORDER BY id") == [{"id": 1, "name": "kept"}]


async def test_bound_piccolo_tables_roundtrip_uuid_and_enforce_foreign_keys(db: Database) -> None:
    parent, child = make_tables()
    db.bind(parent, child)
    for table in (parent, child):
        for ddl in table.create_table(if_not_exists=True).ddl:
            await db.run_ddl(ddl)
    pid = uuid.uuid4()
    await parent.insert(parent(id=pid, name="p"))
    rows = await parent.select().where(parent.id == pid)
    assert rows == [{"id": pid, "name": "p"}]
    if db.dialect == "sqlite":
        stored = await db.fetch("SELECT id, typeof(id) AS kind FROM parent")
        assert stored[0]["kind"] == "text"
        raw = await db.fetch("SELECT CAST(id AS TEXT) AS id FROM parent")
        assert raw == [{"id": str(pid)}]
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await child.insert(child(parent=uuid.uuid4(), n=1))


async def test_postgres_module_gets_its_own_schema(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    settings = resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    other_name = module_name + "-b"
    a = await open_database(module_name, settings)
    b = await open_database(
        other_name, resolve_db_settings(other_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    try:
        assert a.schema == module_name.replace("-", "_")
        assert await a.fetch_one("SELECT current_schema() AS s") == {"s": a.schema}
        await a.run_ddl("CREATE TABLE same_name (v INTEGER)")
        await b.run_ddl("CREATE TABLE same_name (v INTEGER)")
        await a.execute("INSERT INTO same_name VALUES ({})", 1)
        assert await b.fetch("SELECT v FROM same_name") == []
        assert a.engine.pool is not None  # type: ignore[attr-defined]
    finally:
        await a.close()
        await b.close()
    assert a.engine.pool is None  # type: ignore[attr-defined]


async def test_postgres_without_auto_provision_needs_the_schema(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    settings = resolve_db_settings(
        module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path, auto_provision=False
    )
    with pytest.raises(DbOpenError, match="does not exist"):
        await open_database(module_name, settings)


async def test_unreachable_postgres_is_a_clear_error(tmp_path: Path) -> None:
    settings = resolve_db_settings("x", {"dsn": "postgresql://u:secretpw@127.0.0.1:1/db"}, {}, None, tmp_path)
    with pytest.raises(DbOpenError) as info:
        await open_database("x", settings)
    assert "secretpw" not in str(info.value)


async def test_sqlite_without_auto_provision_needs_the_folder(tmp_path: Path) -> None:
    settings = DbSettings.sqlite(tmp_path / "missing" / "x.sqlite")
    with pytest.raises(DbOpenError, match="does not exist"):
        await open_database("x", settings, auto_provision=False)
    db = await open_database("x", settings)
    await db.close()
    assert (tmp_path / "missing" / "x.sqlite").exists()


async def test_cache_returns_one_database_per_module(db_settings: DbSettings, module_name: str) -> None:
    cache = DatabaseCache()
    first = await cache.get(module_name, db_settings)
    assert await cache.get(module_name, db_settings) is first
    await cache.close_all()
    assert first.closed
