"""Migrations and workers shared by the tests and the child processes they start (run as scripts).

``python pg_children.py migrate <dsn> <module>`` runs ``MIGRATIONS`` and prints the applied names as JSON on
the last line; ``python pg_children.py lead <dsn> <module>`` contends for the ``worker`` singleton and, when
leading, records its pid in ``leaders``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from fabrikit.kernel.db import (
    Migration,
    MigrationContext,
    Singleton,
    open_database,
    resolve_db_settings,
    run_migrations,
)


async def _m001(mctx: MigrationContext) -> None:
    await mctx.execute("CREATE TABLE IF NOT EXISTS side_effects (name TEXT NOT NULL, pid INTEGER NOT NULL)")
    await mctx.execute("INSERT INTO side_effects VALUES ({}, {})", "m001", os.getpid())
    if mctx.dialect == "postgres":
        await mctx.execute("SELECT pg_sleep(0.3)")


async def _m002(mctx: MigrationContext) -> None:
    await mctx.execute("INSERT INTO side_effects VALUES ({}, {})", "m002", os.getpid())


MIGRATIONS = [Migration("m002_second", _m002), Migration("m001_first", _m001)]


async def _migrate(dsn: str, module: str) -> list[str]:
    db = await open_database(module, resolve_db_settings(module, {"dsn": dsn}, {}, None, Path(".")))
    try:
        return await run_migrations(db, module, MIGRATIONS, fabrikit_version="test")
    finally:
        await db.close()


async def _lead(dsn: str, module: str) -> None:
    db = await open_database(module, resolve_db_settings(module, {"dsn": dsn}, {}, None, Path(".")))

    async def work() -> None:
        await db.execute("INSERT INTO leaders (pid) VALUES ({})", os.getpid())
        await asyncio.Event().wait()

    try:
        await Singleton(db, module, "worker", work, ttl=0.6, retry_interval=0.1).run()
    finally:
        await db.close()


def main() -> None:
    command, dsn, module = sys.argv[1:4]
    if command == "migrate":
        applied = asyncio.run(_migrate(dsn, module))
        print(json.dumps(applied), flush=True)
    else:
        asyncio.run(_lead(dsn, module))


if __name__ == "__main__":
    main()
