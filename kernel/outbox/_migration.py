"""The kernel migration that creates the outbox tables (K-15)."""

from __future__ import annotations

from fabrikit.kernel.db import Migration, MigrationContext

from ._tables import INDEXES, table_ddl

MIGRATION_NAME = "m001_create_modkit_outbox_schema"


async def _up(mctx: MigrationContext) -> None:
    for ddl in table_ddl(mctx.dialect):
        await mctx.execute(ddl)
    for name, table, columns, unique in INDEXES:
        await mctx.create_index(name, table, columns, unique=unique)


def outbox_migration() -> Migration:
    """Append to the module's own migration list; every table uses ``IF NOT EXISTS``."""
    return Migration(MIGRATION_NAME, _up)
