"""Real-database fixtures: every ``db`` test runs on SQLite (temp file) and on PostgreSQL.

PostgreSQL comes from ``FABRIKIT_TEST_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``); the
session creates a fresh, uniquely named database and drops it at the end. Unreachable → ``pytest.skip``
locally, ``pytest.fail`` when ``CI=true``. The module-level helpers are written so the fixtures can move to a
shared ``tests/conftest.py`` unchanged.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from fabrikit.kernel.db import Database, DbSettings, open_database, redact_dsn, resolve_db_settings

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_dsn() -> str:
    """The DSN of the PostgreSQL server the tests may use (its admin database)."""
    return os.environ.get("FABRIKIT_TEST_PG_DSN", DEFAULT_PG_DSN)


def with_database(dsn: str, dbname: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def pg_unreachable(reason: str) -> None:
    message = f"PostgreSQL not reachable at {redact_dsn(pg_dsn())}: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


async def _admin(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_session_dsn() -> Iterator[str]:
    """DSN of a fresh database for this test session (dropped afterwards)."""
    admin = pg_dsn()
    name = f"fabrikit_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        pg_unreachable(f"{type(exc).__name__}: {exc}")
    yield with_database(admin, name)
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def unique_module_name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def module_name() -> str:
    """A fresh module name per test, so each PostgreSQL test gets its own schema."""
    return unique_module_name()


@pytest.fixture(params=["sqlite", "postgres"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_settings(dialect: str, tmp_path: Path, request: pytest.FixtureRequest, module_name: str) -> DbSettings:
    if dialect == "sqlite":
        return resolve_db_settings(module_name, None, {}, None, tmp_path)
    dsn = request.getfixturevalue("pg_session_dsn")
    return resolve_db_settings(module_name, {"dsn": dsn, "pool": {"max_size": 4}}, {}, None, tmp_path)


@pytest.fixture
async def db(db_settings: DbSettings, module_name: str) -> AsyncIterator[Database]:
    database = await open_database(module_name, db_settings)
    try:
        yield database
    finally:
        await database.close()
