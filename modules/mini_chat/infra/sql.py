"""Dialect value adapters (CI-2.4 type map): what to bind and how to read values back on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from fabrikit.kernel.db import Database

from ..domain.ids import format_db_timestamp, parse_timestamp
from ..domain.ports import UniqueViolation


class Sql:
    """Binds Python values for one dialect: UUIDs as lowercase text on SQLite (Piccolo's adapter), timestamps as
    fixed-width text on SQLite and aware datetimes on PostgreSQL, dates as ``YYYY-MM-DD``/``DATE``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pg = db.dialect == "postgres"

    def ts(self, value: datetime | None) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC) if self.pg else format_db_timestamp(value)

    def day(self, value: date) -> Any:
        return value if self.pg else value.isoformat()

    def lock(self) -> str:
        """Row lock suffix: PG ``FOR UPDATE``; SQLite's IMMEDIATE transaction already holds the writer lock."""
        return " FOR UPDATE" if self.pg else ""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        try:
            return await self.db.fetch(sql, *args)
        except Exception as exc:
            raise _translate(exc) from exc

    async def fetch_one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)


def _translate(exc: Exception) -> Exception:
    """Unique violations become ``UniqueViolation(index)``: both engines, named by what they protect."""
    name = type(exc).__name__
    text = str(exc)
    if name == "UniqueViolationError":
        constraint = getattr(exc, "constraint_name", "") or ""
        return UniqueViolation(_index_name(constraint, text))
    if name == "IntegrityError" and "UNIQUE constraint failed" in text:
        return UniqueViolation(_index_name("", text))
    return exc


def _index_name(constraint: str, text: str) -> str:
    if "ux_turns_one_running" in constraint or text.rstrip().endswith("chat_turns.chat_id"):
        return "ux_turns_one_running"
    if "chat_turns" in constraint or "chat_turns.chat_id, chat_turns.request_id" in text:
        return "turn_request"
    if "ux_messages_turn_role" in constraint or "messages.chat_id, messages.request_id" in text:
        return "ux_messages_turn_role"
    return constraint or text[:80]


def uuid_of(value: Any) -> UUID:
    return value if type(value) is UUID else UUID(str(value))


def opt_uuid(value: Any) -> UUID | None:
    return None if value is None else uuid_of(value)


def ts_of(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_timestamp(str(value))


def opt_ts(value: Any) -> datetime | None:
    return None if value is None else ts_of(value)


def day_of(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def bool_of(value: Any) -> bool:
    return bool(value)
