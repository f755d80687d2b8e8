"""``messages``: turn pairs, the snapshot boundary, recent history and the list page (CI-2, CI-3 P6, C-7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fabrikit.kernel.db import ScopeSql, paginate
from fabrikit.kernel.odata import Page, QueryPlan

from ..domain.ports import MessageRow, NewMessage
from .sql import Sql, opt_uuid, ts_of, uuid_of

_COLS = "id, chat_id, request_id, role, content, model, input_tokens, output_tokens, created_at"
_LIVE = "chat_id = {} AND tenant_id = {} AND deleted_at IS NULL"
_UPTO = "(created_at < {} OR (created_at = {} AND id <= {}))"


def message_of(r: dict[str, Any]) -> MessageRow:
    return MessageRow(
        id=uuid_of(r["id"]),
        chat_id=uuid_of(r["chat_id"]),
        request_id=opt_uuid(r["request_id"]),
        role=r["role"],
        content=r["content"],
        model=r["model"],
        input_tokens=int(r["input_tokens"] or 0),
        output_tokens=int(r["output_tokens"] or 0),
        created_at=ts_of(r["created_at"]),
    )


class MessagesRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, m: NewMessage) -> None:
        s = self._sql
        u = m.usage
        import json

        await s.execute(
            "INSERT INTO messages (id, tenant_id, chat_id, request_id, role, content, token_estimate, "
            "provider_response_id, features_used, input_tokens, output_tokens, cache_read_input_tokens, "
            "cache_write_input_tokens, reasoning_tokens, model, created_at) VALUES "
            "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            m.id,
            m.tenant_id,
            m.chat_id,
            m.request_id,
            m.role,
            m.content,
            m.token_estimate,
            m.provider_response_id,
            json.dumps(list(m.features_used)),
            u.input_tokens if u else 0,
            u.output_tokens if u else 0,
            u.cache_read_input_tokens if u else 0,
            u.cache_write_input_tokens if u else 0,
            u.reasoning_tokens if u else 0,
            m.model,
            s.ts(m.created_at),
        )

    async def by_request(self, tenant_id: UUID, chat_id: UUID, request_id: UUID) -> list[MessageRow]:
        rows = await self._sql.fetch(
            f"SELECT {_COLS} FROM messages WHERE {_LIVE} AND request_id = {{}} ORDER BY created_at, id",
            chat_id,
            tenant_id,
            request_id,
        )
        return [message_of(r) for r in rows]

    async def get(self, tenant_id: UUID, chat_id: UUID, message_id: UUID) -> MessageRow | None:
        row = await self._sql.fetch_one(
            f"SELECT {_COLS} FROM messages WHERE {_LIVE} AND id = {{}}", chat_id, tenant_id, message_id
        )
        return message_of(row) if row else None

    async def is_live(self, tenant_id: UUID, chat_id: UUID, message_id: UUID) -> bool:
        return await self.get(tenant_id, chat_id, message_id) is not None

    async def boundary(self, tenant_id: UUID, chat_id: UUID) -> MessageRow | None:
        row = await self._sql.fetch_one(
            f"SELECT {_COLS} FROM messages WHERE {_LIVE} AND request_id IS NOT NULL "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            chat_id,
            tenant_id,
        )
        return message_of(row) if row else None

    async def prior_context_tokens(self, tenant_id: UUID, chat_id: UUID) -> int:
        row = await self._sql.fetch_one(
            f"SELECT input_tokens, output_tokens FROM messages WHERE {_LIVE} AND role = 'assistant' "
            "AND (input_tokens > 0 OR output_tokens > 0) ORDER BY created_at DESC, id DESC LIMIT 1",
            chat_id,
            tenant_id,
        )
        return int(row["input_tokens"]) + int(row["output_tokens"]) if row else 0

    async def recent(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        *,
        after: tuple[datetime, UUID] | None,
        upto: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[MessageRow]:
        s = self._sql
        where = f"{_LIVE} AND role IN ('user', 'assistant')"
        args: list[Any] = [chat_id, tenant_id]
        if after is not None:
            where += " AND (created_at > {} OR (created_at = {} AND id > {}))"
            args += [s.ts(after[0]), s.ts(after[0]), after[1]]
        if upto is not None:
            where += " AND (created_at < {} OR (created_at = {} AND id <= {}))"
            args += [s.ts(upto[0]), s.ts(upto[0]), upto[1]]
        rows = await s.fetch(
            f"SELECT {_COLS} FROM messages WHERE {where} ORDER BY created_at DESC, id DESC LIMIT {int(limit)}",
            *args,
        )
        return [message_of(r) for r in reversed(rows)]

    async def newest_before(
        self, tenant_id: UUID, chat_id: UUID, before: tuple[datetime, UUID]
    ) -> MessageRow | None:
        s = self._sql
        row = await s.fetch_one(
            f"SELECT {_COLS} FROM messages WHERE {_LIVE} AND (created_at < {{}} OR (created_at = {{}} AND id < {{}})) "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            chat_id,
            tenant_id,
            s.ts(before[0]),
            s.ts(before[0]),
            before[1],
        )
        return message_of(row) if row else None

    async def soft_delete_turn(
        self, tenant_id: UUID, chat_id: UUID, request_id: UUID, now: datetime
    ) -> list[MessageRow]:
        rows = await self.by_request(tenant_id, chat_id, request_id)
        await self._sql.execute(
            f"UPDATE messages SET deleted_at = {{}} WHERE {_LIVE} AND request_id = {{}}",
            self._sql.ts(now),
            chat_id,
            tenant_id,
            request_id,
        )
        return rows

    async def between(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        *,
        after: tuple[datetime, UUID] | None,
        upto: tuple[datetime, UUID],
    ) -> list[MessageRow]:
        s = self._sql
        where = f"{_LIVE} AND role IN ('user', 'assistant') AND {_UPTO}"
        args: list[Any] = [chat_id, tenant_id, s.ts(upto[0]), s.ts(upto[0]), upto[1]]
        if after is not None:
            where += " AND (created_at > {} OR (created_at = {} AND id > {}))"
            args += [s.ts(after[0]), s.ts(after[0]), after[1]]
        rows = await s.fetch(f"SELECT {_COLS} FROM messages WHERE {where} ORDER BY created_at, id", *args)
        return [message_of(r) for r in rows]

    async def mark_compressed(self, tenant_id: UUID, chat_id: UUID, upto: tuple[datetime, UUID]) -> None:
        s = self._sql
        await s.execute(
            f"UPDATE messages SET is_compressed = {{}} WHERE {_LIVE} AND {_UPTO}",
            True,
            chat_id,
            tenant_id,
            s.ts(upto[0]),
            s.ts(upto[0]),
            upto[1],
        )

    async def clear_compressed(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "UPDATE messages SET is_compressed = {} WHERE chat_id = {} AND tenant_id = {}",
            False,
            chat_id,
            tenant_id,
        )

    async def page(self, tenant_id: UUID, chat_id: UUID, plan: QueryPlan) -> Page[MessageRow]:
        where = ScopeSql(
            "chat_id = {} AND tenant_id = {} AND deleted_at IS NULL AND role IN ('user', 'assistant')",
            (chat_id, tenant_id),
        )
        page = await paginate(self._sql.db, "messages", plan, extra_where=where, select_columns=_COLS)
        return Page(items=[message_of(r) for r in page.items], page_info=page.page_info)
