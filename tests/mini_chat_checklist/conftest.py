"""The checklist tests reuse the e2e ``database`` fixture: SQLite (the harness home) and a fresh PostgreSQL database
per test file (``FABRIKIT_TEST_PG_DSN``; unreachable → skip locally, fail under ``CI=true``)."""

from __future__ import annotations

from tests.mini_chat_e2e.conftest import database  # noqa: F401
