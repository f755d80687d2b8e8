"""Real SQLite + PostgreSQL fixtures (shared with ``tests/kernel/db``) and the two paging stores."""

from __future__ import annotations

import pytest

from fabrikit.kernel.db import Database
from tests.kernel.db.conftest import db, db_settings, dialect, module_name, pg_session_dsn
from tests.kernel.db_paging.stores import Store, make_store

__all__ = ["db", "db_settings", "dialect", "module_name", "pg_session_dsn"]


@pytest.fixture(params=["piccolo", "raw"])
async def store(request: pytest.FixtureRequest, db: Database) -> Store:
    """The ``item`` rows behind a Piccolo ``Table`` source and behind a raw joined ``FROM`` source."""
    return await make_store(db, str(request.param))


@pytest.fixture
async def item_store(db: Database) -> Store:
    return await make_store(db, "piccolo")


@pytest.fixture
async def raw_store(db: Database) -> Store:
    return await make_store(db, "raw")
