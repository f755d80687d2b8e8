"""``chats``: every read applies the PEP scope and the owner filter in SQL (C-2.3, C-2.4, CI-17.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fabrikit.kernel.db import compile_scope, paginate
from fabrikit.kernel.odata import Page, QueryPlan
from fabrikit.kernel.security import AccessScope

from ..domain.ports import ChatRow
from .sql import Sql, bool_of, ts_of, uuid_of
from .tables import CHAT_SCOPE, Chats

_COUNT = (
    "(SELECT COUNT(*) FROM messages m WHERE m.chat_id = chats.id AND m.tenant_id = chats.tenant_id "
    "AND m.deleted_at IS NULL AND m.role IN ('user', 'assistant')) AS message_count"
)
_COLUMNS = (
    f"chats.id, chats.tenant_id, chats.user_id, chats.model, chats.title, chats.is_temporary, "
    f"chats.created_at, chats.updated_at, {_COUNT}"
)


def chat_of(row: dict[str, Any]) -> ChatRow:
    return ChatRow(
        id=uuid_of(row["id"]),
        tenant_id=uuid_of(row["tenant_id"]),
        user_id=uuid_of(row["user_id"]),
        model=row["model"],
        title=row["title"],
        is_temporary=bool_of(row["is_temporary"]),
        created_at=ts_of(row["created_at"]),
        updated_at=ts_of(row["updated_at"]),
        message_count=int(row.get("message_count") or 0),
    )


class ChatsRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def _owner_where(self, scope: AccessScope, tenant_id: UUID, user_id: UUID) -> tuple[str, list[Any]]:
        parts = ["chats.deleted_at IS NULL", "chats.tenant_id = {}", "chats.user_id = {}"]
        args: list[Any] = [tenant_id, user_id]
        scoped = compile_scope(Chats, CHAT_SCOPE, scope)
        if scoped is not None:
            parts.append(f"({scoped.sql})")
            args.extend(scoped.args)
        return " AND ".join(parts), args

    async def insert(self, row: ChatRow) -> None:
        s = self._sql
        await s.execute(
            "INSERT INTO chats (id, tenant_id, user_id, model, title, is_temporary, created_at, updated_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
            row.id,
            row.tenant_id,
            row.user_id,
            row.model,
            row.title,
            row.is_temporary,
            s.ts(row.created_at),
            s.ts(row.updated_at),
        )

    async def get(
        self, scope: AccessScope, tenant_id: UUID, user_id: UUID, chat_id: UUID, *, lock: bool = False
    ) -> ChatRow | None:
        where, args = self._owner_where(scope, tenant_id, user_id)
        if lock and self._sql.pg:
            locked = await self._sql.fetch_one(
                f"SELECT chats.id FROM chats WHERE chats.id = {{}} AND {where} FOR UPDATE", chat_id, *args
            )
            if locked is None:
                return None
        row = await self._sql.fetch_one(
            f"SELECT {_COLUMNS} FROM chats WHERE chats.id = {{}} AND {where}", chat_id, *args
        )
        return chat_of(row) if row else None

    async def page(
        self, scope: AccessScope, tenant_id: UUID, user_id: UUID, plan: QueryPlan
    ) -> Page[ChatRow]:
        from fabrikit.kernel.db import ScopeSql

        where, args = self._owner_where(scope, tenant_id, user_id)
        page = await paginate(
            self._sql.db,
            "chats",
            plan,
            extra_where=ScopeSql(where, tuple(args)),
            select_columns=_COLUMNS,
        )
        return Page(items=[chat_of(r) for r in page.items], page_info=page.page_info)

    async def update_title(self, tenant_id: UUID, chat_id: UUID, title: str, now: datetime) -> None:
        await self._sql.execute(
            "UPDATE chats SET title = {}, updated_at = {} WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL",
            title,
            self._sql.ts(now),
            chat_id,
            tenant_id,
        )

    async def soft_delete(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> bool:
        rows = await self._sql.fetch(
            "UPDATE chats SET deleted_at = {}, updated_at = {} WHERE id = {} AND tenant_id = {} "
            "AND deleted_at IS NULL RETURNING id",
            self._sql.ts(now),
            self._sql.ts(now),
            chat_id,
            tenant_id,
        )
        return bool(rows)

    async def touch(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> None:
        await self._sql.execute(
            "UPDATE chats SET updated_at = {} WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL",
            self._sql.ts(now),
            chat_id,
            tenant_id,
        )

    async def lock(self, tenant_id: UUID, chat_id: UUID) -> bool:
        row = await self._sql.fetch_one(
            "SELECT id FROM chats WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL" + self._sql.lock(),
            chat_id,
            tenant_id,
        )
        return row is not None

    async def owner(self, tenant_id: UUID, chat_id: UUID) -> UUID | None:
        row = await self._sql.fetch_one(
            "SELECT user_id FROM chats WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL",
            chat_id,
            tenant_id,
        )
        return uuid_of(row["user_id"]) if row else None

    async def is_live(self, tenant_id: UUID, chat_id: UUID) -> bool:
        row = await self._sql.fetch_one(
            "SELECT 1 AS one FROM chats WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL",
            chat_id,
            tenant_id,
        )
        return row is not None
