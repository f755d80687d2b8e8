"""Outbox tests run on a real SQLite file and a real PostgreSQL database (fixtures of the db tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fabrikit.kernel.db import Database, run_migrations
from fabrikit.kernel.outbox import Outbox, outbox_migration
from tests.kernel.db.conftest import (  # noqa: F401 - fixtures re-used as is
    db,
    db_settings,
    dialect,
    module_name,
    pg_session_dsn,
)

FAST: dict[str, float] = {
    "poll_interval": 0.05,
    "backoff_base": 0.01,
    "backoff_max": 0.05,
    "vacuum_interval": 3600,
    "reconcile_interval": 0.5,
    "stop_timeout": 5,
}


@pytest.fixture
async def odb(db: Database, module_name: str) -> Database:  # noqa: F811
    """The module database with the outbox migration applied."""
    await run_migrations(db, module_name, [outbox_migration()], fabrikit_version="test")
    return db


async def build(
    database: Database, *queues: dict[str, Any], profile: str = "default", **timings: float
) -> Outbox:
    builder = Outbox.builder(database).profile(profile).timings(**{**FAST, **timings})
    for queue in queues:
        builder.queue(**queue)
    outbox: Outbox = await builder.build()
    return outbox


async def wait_until(predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
