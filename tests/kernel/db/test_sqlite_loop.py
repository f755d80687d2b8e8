"""The SQLite engine's loop connections and write gate: isolation, rollback, and another process's lock."""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fabrikit.kernel.db import Database, open_database, resolve_db_settings
from fabrikit.kernel.db._sqlite_engine import CHECKPOINT_EVERY_COMMITS


async def _open(tmp_path: Path, name: str, busy_ms: int = 5000) -> Database:
    block = {"params": {"busy_timeout": str(busy_ms)}}
    db = await open_database(name, resolve_db_settings(name, block, {}, None, tmp_path))
    await db.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    await db.execute("INSERT INTO counter VALUES (1, 0)")
    return db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await _open(tmp_path, "loop")
    try:
        yield database
    finally:
        await database.close()


async def _value(db: Database) -> int:
    row = await db.fetch_one("SELECT value FROM counter WHERE id = 1")
    assert row is not None
    return int(row["value"])


def _raw_lock(db: Database) -> sqlite3.Connection:
    """Another connection (as another process would) holding SQLite's write lock."""
    assert db.settings.sqlite_path is not None
    other = sqlite3.connect(str(db.settings.sqlite_path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE counter SET value = 100 WHERE id = 1")
    return other


async def test_many_concurrent_writers_each_see_the_previous_commit(db: Database) -> None:
    async def bump() -> None:
        async with db.transaction(write=True):
            value = await _value(db)
            await asyncio.sleep(0)  # other writers run meanwhile, and must queue
            await db.execute("UPDATE counter SET value = {} WHERE id = 1", value + 1)

    await asyncio.gather(*(bump() for _ in range(40)), *(db.execute("SELECT 1") for _ in range(40)))
    assert await _value(db) == 40


async def test_uncommitted_writes_are_invisible_outside_the_transaction(db: Database) -> None:
    async with db.transaction(write=True):
        await db.execute("UPDATE counter SET value = 7 WHERE id = 1")
        assert await _value(db) == 7
        assert await asyncio.create_task(_value(db)) == 7  # a child task joins the transaction
        assert await _read_in_fresh_context(db) == 0  # not in the transaction: the committed value
    assert await _value(db) == 7


async def _read_in_fresh_context(db: Database) -> int:
    return await asyncio.get_running_loop().create_task(_value(db), context=contextvars.Context())


async def test_a_failed_transaction_rolls_back_and_the_writer_stays_usable(db: Database) -> None:
    async def fail() -> None:
        async with db.transaction(write=True):
            await db.execute("UPDATE counter SET value = 5 WHERE id = 1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail()
    assert await _value(db) == 0
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction(write=True):
            await db.execute("INSERT INTO counter VALUES (1, 9)")
    async with db.transaction(write=True):
        await db.execute("UPDATE counter SET value = 3 WHERE id = 1")
    assert await _value(db) == 3


async def test_a_read_only_transaction_keeps_its_snapshot(db: Database) -> None:
    async with db.transaction():
        assert await _value(db) == 0
        async with asyncio.timeout(5):
            await asyncio.create_task(_write_in_fresh_context(db, 4))
        assert await _value(db) == 0
    assert await _value(db) == 4


async def _write_in_fresh_context(db: Database, value: int) -> None:
    async def write() -> None:
        async with db.transaction(write=True):
            await db.execute("UPDATE counter SET value = {} WHERE id = 1", value)

    await asyncio.get_running_loop().create_task(write(), context=contextvars.Context())


async def test_another_process_lock_is_waited_for_without_blocking_the_loop(db: Database) -> None:
    other = _raw_lock(db)
    ticks = 0

    async def write() -> None:
        async with db.transaction(write=True):
            await db.execute("UPDATE counter SET value = value + 1 WHERE id = 1")

    writer = asyncio.create_task(write())
    try:
        for _ in range(20):
            await asyncio.sleep(0.005)
            ticks += 1
        assert not writer.done()
        assert ticks == 20  # the loop kept running while the writer waited
    finally:
        other.execute("COMMIT")
        other.close()
    await writer
    assert await _value(db) == 101


async def test_a_lock_held_past_busy_timeout_fails_as_locked(tmp_path: Path) -> None:
    db = await _open(tmp_path, "short", busy_ms=100)
    other = _raw_lock(db)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with db.transaction(write=True):
                pass
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await db.execute("UPDATE counter SET value = 1 WHERE id = 1")
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with db.transaction(write=True):  # the writer is not left inside a transaction
        await db.execute("UPDATE counter SET value = 2 WHERE id = 1")
    assert await _value(db) == 2
    await db.close()


async def test_the_wal_is_checkpointed_in_the_background_and_reused(db: Database) -> None:
    await db.run_ddl("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    commits = CHECKPOINT_EVERY_COMMITS * 30
    blob = b"x" * 8192
    for i in range(commits):
        async with db.transaction(write=True):
            await db.execute("INSERT INTO blobs (id, data) VALUES ({}, {})", i, blob)
        if i % CHECKPOINT_EVERY_COMMITS == 0:
            await asyncio.sleep(0.005)  # the background checkpoint runs on a thread; give it a moment
    assert db.settings.sqlite_path is not None
    wal_size = await asyncio.to_thread(os.path.getsize, f"{db.settings.sqlite_path}-wal")
    written = commits * len(blob)
    # Without checkpoints (the loop writer's own auto-checkpoint is off) the WAL would hold every commit; with
    # only unsynchronised passive ones it would not restart either while writes keep coming.
    assert wal_size < written / 2
    row = await db.fetch_one("SELECT count(*) AS n FROM blobs")
    assert row == {"n": commits}
