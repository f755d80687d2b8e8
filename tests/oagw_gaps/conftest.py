"""Database fixtures shared with the kernel's db tests: every ``db`` test runs on SQLite and PostgreSQL (the PG leg
skips locally and fails under ``CI=true`` when the server is unreachable)."""

from tests.kernel.db.conftest import (  # noqa: F401  (fixtures)
    db,
    db_settings,
    dialect,
    module_name,
    pg_session_dsn,
)
