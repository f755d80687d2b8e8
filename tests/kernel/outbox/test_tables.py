"""K-15: the seven tables, their columns and unique constraints; the migration is idempotent."""

from __future__ import annotations

import pytest

from fabrikit.kernel.db import Database, MigrationContext, run_migrations
from fabrikit.kernel.outbox import MIGRATION_NAME, TABLES, outbox_migration

COLUMNS = {
    "modkit_outbox_body": {"id", "payload", "payload_type", "created_at"},
    "modkit_outbox_partitions": {"id", "queue", "partition", "sequence"},
    "modkit_outbox_incoming": {"id", "partition_id", "body_id"},
    "modkit_outbox_outgoing": {"id", "partition_id", "body_id", "seq", "sequenced_at"},
    "modkit_outbox_processor": {"partition_id", "processed_seq", "attempts", "last_error", "locked_by", "locked_until"},
    "modkit_outbox_dead_letters": {
        "id", "partition_id", "seq", "payload", "payload_type", "created_at", "failed_at", "status",
        "last_error", "attempts", "deadline",
    },
    "modkit_outbox_vacuum_counter": {"partition_id", "counter"},
}  # fmt: skip


async def columns(db: Database, table: str) -> dict[str, str]:
    if db.dialect == "sqlite":
        rows = await db.fetch(f"SELECT name, type FROM pragma_table_info('{table}')")
        return {r["name"]: r["type"].lower() for r in rows}
    rows = await db.fetch(
        "SELECT column_name AS name, data_type AS type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = {}",
        table,
    )
    return {r["name"]: r["type"].lower() for r in rows}


async def test_tables_columns_and_types(odb: Database) -> None:
    assert set(TABLES) == set(COLUMNS)
    for table, expected in COLUMNS.items():
        assert set(await columns(odb, table)) == expected, table
    blob = "blob" if odb.dialect == "sqlite" else "bytea"
    assert (await columns(odb, "modkit_outbox_body"))["payload"] == blob
    assert (await columns(odb, "modkit_outbox_dead_letters"))["payload"] == blob


async def test_unique_constraints(odb: Database) -> None:
    await odb.execute(
        'INSERT INTO modkit_outbox_partitions (queue, "partition", sequence) VALUES ({}, 0, 0)', "q"
    )
    with pytest.raises(Exception, match=r"(?i)unique"):
        await odb.execute(
            'INSERT INTO modkit_outbox_partitions (queue, "partition", sequence) VALUES ({}, 0, 0)', "q"
        )
    insert = (
        "INSERT INTO modkit_outbox_outgoing (partition_id, body_id, seq, sequenced_at) VALUES (1, {}, 1, 0)"
    )
    await odb.execute(insert, 1)
    with pytest.raises(Exception, match=r"(?i)unique"):
        await odb.execute(insert, 2)


async def test_migration_is_idempotent_ddl(odb: Database, module_name: str) -> None:
    assert outbox_migration().name == MIGRATION_NAME == "m001_create_modkit_outbox_schema"
    # Recorded: a second run applies nothing; running the DDL again (another module list) is harmless too.
    assert await run_migrations(odb, module_name, [outbox_migration()], fabrikit_version="test") == []
    async with odb.transaction(write=True):
        await outbox_migration().up(MigrationContext(odb))
