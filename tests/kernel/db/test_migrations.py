"""K-14.5, K-14.6: kernel migrations."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.table import Table
from structlog.testing import capture_logs

from fabrikit.kernel.db import (
    Database,
    Migration,
    MigrationContext,
    MigrationError,
    advisory_key,
    history_table_name,
    migration_status,
    open_database,
    resolve_db_settings,
    run_migrations,
)

from . import pg_children

CHILD = Path(pg_children.__file__)


def test_history_table_name_is_sanitized_and_hashed() -> None:
    name = history_table_name("mini-chat")
    assert name.startswith("fabrikit_migrations__mini_chat__")
    assert len(name.rsplit("__", 1)[1]) == 8
    long = history_table_name("a" * 60)
    assert long.split("__")[1] == "a" * 40
    assert history_table_name("a-b") != history_table_name("a_b")


def test_advisory_key_is_signed_int64_of_sha256() -> None:
    key = advisory_key("fabrikit:migrate:mini-chat")
    assert -(2**63) <= key < 2**63
    assert key == advisory_key("fabrikit:migrate:mini-chat")
    assert advisory_key("x") != advisory_key("y")
    assert advisory_key("fabrikit:migrate:a") == int.from_bytes(
        __import__("hashlib").sha256(b"fabrikit:migrate:a").digest()[:8], "big", signed=True
    )


async def test_migrations_apply_in_name_order_once_and_are_recorded(db: Database, module_name: str) -> None:
    order: list[str] = []

    def step(name: str) -> Migration:
        async def up(mctx: MigrationContext) -> None:
            order.append(name)
            await mctx.execute(f"CREATE TABLE {name} (v INTEGER)")

        return Migration(name, up)

    migrations = [step("m003_c"), step("m001_a"), step("m002_b")]
    seen: list[str] = []
    applied = await run_migrations(
        db, module_name, migrations, fabrikit_version="9.9", on_applied=lambda n, ms: seen.append(n)
    )
    assert applied == ["m001_a", "m002_b", "m003_c"] == order == seen
    assert await run_migrations(db, module_name, migrations, fabrikit_version="9.9") == []
    assert order == ["m001_a", "m002_b", "m003_c"]
    rows = await db.fetch(
        f'SELECT name, fabrikit_version, duration_ms FROM "{history_table_name(module_name)}"'
    )
    assert sorted(r["name"] for r in rows) == ["m001_a", "m002_b", "m003_c"]
    assert {r["fabrikit_version"] for r in rows} == {"9.9"}
    assert all(r["duration_ms"] >= 0 for r in rows)
    status = await migration_status(db, module_name, migrations)
    assert [name for name, _ in status] == ["m001_a", "m002_b", "m003_c"]
    assert all(at is not None for _, at in status)


async def test_status_before_any_run_is_all_pending(db: Database, module_name: str) -> None:
    migrations = [Migration("m1", _noop)]
    assert await migration_status(db, module_name, migrations) == [("m1", None)]


async def _noop(mctx: MigrationContext) -> None:
    return None


async def test_duplicate_names_are_an_error(db: Database, module_name: str) -> None:
    with pytest.raises(MigrationError, match="twice") as info:
        await run_migrations(
            db, module_name, [Migration("m1", _noop), Migration("m1", _noop)], fabrikit_version="1"
        )
    assert info.value.migration == "m1"
    assert info.value.module == module_name


async def test_failed_migration_rolls_back_with_its_history_row(db: Database, module_name: str) -> None:
    async def bad(mctx: MigrationContext) -> None:
        await mctx.execute("CREATE TABLE half_done (v INTEGER)")
        await mctx.execute("INSERT INTO half_done VALUES ({})", 1)
        raise ValueError("broken migration")

    migrations = [Migration("m1_ok", _noop), Migration("m2_bad", bad)]
    with pytest.raises(MigrationError) as info:
        await run_migrations(db, module_name, migrations, fabrikit_version="1")
    assert info.value.migration == "m2_bad"
    assert isinstance(info.value.__cause__, ValueError)
    status = dict(await migration_status(db, module_name, migrations))
    assert status["m1_ok"] is not None
    assert status["m2_bad"] is None
    with pytest.raises(Exception, match="half_done"):
        await db.fetch("SELECT * FROM half_done")


async def test_recorded_unknown_migration_is_warned(db: Database, module_name: str) -> None:
    await run_migrations(
        db, module_name, [Migration("m1", _noop), Migration("m0_gone", _noop)], fabrikit_version="1"
    )
    with capture_logs() as logs:
        await run_migrations(db, module_name, [Migration("m1", _noop)], fabrikit_version="1")
    warnings = [e for e in logs if e["event"] == "migration_unknown_applied"]
    assert warnings == [
        {
            "event": "migration_unknown_applied",
            "log_level": "warning",
            "module": module_name,
            "migration": "m0_gone",
        }
    ]


def make_items_table() -> Any:
    class Item(Table, tablename="item"):
        id = UUID(primary_key=True)
        tenant_id = UUID()
        name = Varchar(length=50)
        deleted_at = Timestamptz(null=True, default=None)

    return Item


async def test_create_tables_and_partial_unique_index(db: Database, module_name: str) -> None:
    item = make_items_table()

    async def m001(mctx: MigrationContext) -> None:
        await mctx.create_tables(item)
        await mctx.create_index(
            "item_live_name", item, [item.tenant_id, "name"], unique=True, where="deleted_at IS NULL"
        )

    migrations = [Migration("m001", m001)]
    assert await run_migrations(db, module_name, migrations, fabrikit_version="1") == ["m001"]
    # Re-running the same DDL is harmless (IF NOT EXISTS), e.g. after a manual repair.
    async with db.transaction(write=True):
        await m001(MigrationContext(db))

    import uuid
    from datetime import UTC, datetime

    tenant = uuid.uuid4()
    await item.insert(item(id=uuid.uuid4(), tenant_id=tenant, name="a", deleted_at=datetime.now(UTC)))
    await item.insert(item(id=uuid.uuid4(), tenant_id=tenant, name="a", deleted_at=datetime.now(UTC)))
    await item.insert(item(id=uuid.uuid4(), tenant_id=tenant, name="a"))
    await item.insert(item(id=uuid.uuid4(), tenant_id=uuid.uuid4(), name="a"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await item.insert(item(id=uuid.uuid4(), tenant_id=tenant, name="a"))
    assert await item.count() == 4


async def test_create_index_rejects_non_identifiers(db: Database, module_name: str) -> None:
    async def m001(mctx: MigrationContext) -> None:
        await mctx.create_index("ix; DROP TABLE x", "t", ["a"])

    with pytest.raises(MigrationError, match="identifier") as info:
        await run_migrations(db, module_name, [Migration("m001", m001)], fabrikit_version="1")
    assert info.value.migration == "m001"


def _spawn_migrate(dsn: str, module: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), "migrate", dsn, module],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _applied_by(proc: subprocess.Popen[str]) -> list[str]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return list(json.loads(out.strip().splitlines()[-1]))


async def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_postgres_second_process_waits_on_the_advisory_lock(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    db = await open_database(
        module_name, resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    blocker = await asyncpg.connect(pg_session_dsn)
    try:
        await blocker.execute("SELECT pg_advisory_lock($1)", advisory_key(f"fabrikit:migrate:{module_name}"))
        child = await asyncio.to_thread(_spawn_migrate, pg_session_dsn, module_name)

        async def child_waits() -> bool:
            row = await blocker.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            return bool(row)

        await _wait_for(child_waits)
        assert child.poll() is None
        assert [at for _, at in await migration_status(db, module_name, pg_children.MIGRATIONS)] == [
            None,
            None,
        ]
        await blocker.execute(
            "SELECT pg_advisory_unlock($1)", advisory_key(f"fabrikit:migrate:{module_name}")
        )
        assert await asyncio.to_thread(_applied_by, child) == ["m001_first", "m002_second"]
    finally:
        await blocker.close()
    try:
        assert await run_migrations(db, module_name, pg_children.MIGRATIONS, fabrikit_version="t") == []
    finally:
        await db.close()


async def test_postgres_concurrent_processes_apply_each_migration_once(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    children = [_spawn_migrate(pg_session_dsn, module_name) for _ in range(2)]
    results = await asyncio.gather(*(asyncio.to_thread(_applied_by, c) for c in children))
    assert sorted(name for applied in results for name in applied) == ["m001_first", "m002_second"]
    assert [] in results  # the loser waited, then found everything recorded
    db = await open_database(
        module_name, resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    try:
        rows = await db.fetch("SELECT name, count(*) AS n FROM side_effects GROUP BY name ORDER BY name")
        assert rows == [{"name": "m001", "n": 1}, {"name": "m002", "n": 1}]
    finally:
        await db.close()


async def test_sqlite_concurrent_runs_apply_each_migration_once(tmp_path: Path, module_name: str) -> None:
    settings = resolve_db_settings(module_name, None, {}, None, tmp_path)
    a = await open_database(module_name, settings)
    b = await open_database(module_name, settings)
    try:
        results = await asyncio.gather(
            run_migrations(a, module_name, pg_children.MIGRATIONS, fabrikit_version="t"),
            run_migrations(b, module_name, pg_children.MIGRATIONS, fabrikit_version="t"),
        )
        assert sorted(n for r in results for n in r) == ["m001_first", "m002_second"]
        rows = await a.fetch("SELECT name, count(*) AS n FROM side_effects GROUP BY name ORDER BY name")
        assert rows == [{"name": "m001", "n": 1}, {"name": "m002", "n": 1}]
    finally:
        await a.close()
        await b.close()
