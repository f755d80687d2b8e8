"""Every end-to-end test runs on SQLite and on PostgreSQL; one real server per test file and engine.

PostgreSQL comes from ``FABRIKIT_TEST_PG_DSN``: a fresh database per file, dropped afterwards; unreachable → skip
locally, fail under ``CI=true``. Tests share the file's server, so each one creates its own chats.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from tests.kernel.db.conftest import pg_dsn, pg_unreachable, with_database

from .harness import ChatServer, chat_server


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(pg_dsn(), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any] | None]:
    """``None`` = the SQLite default under the harness home; else a ``database`` block for a fresh PG database."""
    if request.param == "sqlite":
        yield None
        return
    name = f"fabrikit_e2e_{uuid.uuid4().hex[:12]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        pg_unreachable(f"{type(exc).__name__}: {exc}")
    try:
        yield {"servers": {"pg": {"dsn": with_database(pg_dsn(), name)}}, "default_server": "pg"}
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[ChatServer]:
    async with chat_server(database) as s:
        yield s
