"""``message_reactions``: one per (message, user); PUT upserts and refreshes ``created_at`` (C-14.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from ..domain.ids import new_uuid7
from .sql import Sql, uuid_of


class ReactionsRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def upsert(
        self, tenant_id: UUID, chat_id: UUID, message_id: UUID, user_id: UUID, reaction: str, now: datetime
    ) -> None:
        await self._sql.execute(
            "INSERT INTO message_reactions (id, tenant_id, chat_id, message_id, user_id, reaction, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (message_id, user_id) DO UPDATE SET "
            "reaction = excluded.reaction, created_at = excluded.created_at",
            new_uuid7(),
            tenant_id,
            chat_id,
            message_id,
            user_id,
            reaction,
            self._sql.ts(now),
        )

    async def delete(self, tenant_id: UUID, chat_id: UUID, message_id: UUID, user_id: UUID) -> None:
        await self._sql.execute(
            "DELETE FROM message_reactions WHERE tenant_id = {} AND chat_id = {} AND message_id = {} AND user_id = {}",
            tenant_id,
            chat_id,
            message_id,
            user_id,
        )

    async def of_messages(
        self, tenant_id: UUID, user_id: UUID, message_ids: Sequence[UUID]
    ) -> dict[UUID, str]:
        if not message_ids:
            return {}
        marks = ", ".join("{}" for _ in message_ids)
        rows = await self._sql.fetch(
            f"SELECT message_id, reaction FROM message_reactions WHERE tenant_id = {{}} AND user_id = {{}} "
            f"AND message_id IN ({marks})",
            tenant_id,
            user_id,
            *message_ids,
        )
        return {uuid_of(r["message_id"]): r["reaction"] for r in rows}
