"""``thread_summaries``: the committed summary and its frontier (CI-9)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from ..domain.ports import SummaryRow, UniqueViolation
from .sql import Sql, ts_of, uuid_of


class SummariesRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, tenant_id: UUID, chat_id: UUID) -> SummaryRow | None:
        row = await self._sql.fetch_one(
            "SELECT summary_text, summarized_up_to_message_id, summarized_up_to_created_at, token_estimate "
            "FROM thread_summaries WHERE chat_id = {} AND tenant_id = {}",
            chat_id,
            tenant_id,
        )
        if row is None:
            return None
        return SummaryRow(
            summary_text=row["summary_text"],
            frontier_created_at=ts_of(row["summarized_up_to_created_at"]),
            frontier_message_id=uuid_of(row["summarized_up_to_message_id"]),
            token_estimate=int(row["token_estimate"]),
        )

    async def store(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        base: tuple[datetime, UUID] | None,
        summary: SummaryRow,
        now: datetime,
    ) -> bool:
        s = self._sql
        if base is None:
            try:
                await s.execute(
                    "INSERT INTO thread_summaries (id, tenant_id, chat_id, summary_text, summarized_up_to_message_id, "
                    "summarized_up_to_created_at, token_estimate, created_at, updated_at) "
                    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    uuid4(),
                    tenant_id,
                    chat_id,
                    summary.summary_text,
                    summary.frontier_message_id,
                    s.ts(summary.frontier_created_at),
                    summary.token_estimate,
                    s.ts(now),
                    s.ts(now),
                )
            except UniqueViolation:  # another writer summarized this chat first
                return False
            return True
        rows = await s.fetch(
            "UPDATE thread_summaries SET summary_text = {}, summarized_up_to_message_id = {}, "
            "summarized_up_to_created_at = {}, token_estimate = {}, updated_at = {} "
            "WHERE chat_id = {} AND tenant_id = {} AND summarized_up_to_created_at = {} "
            "AND summarized_up_to_message_id = {} RETURNING id",
            summary.summary_text,
            summary.frontier_message_id,
            s.ts(summary.frontier_created_at),
            summary.token_estimate,
            s.ts(now),
            chat_id,
            tenant_id,
            s.ts(base[0]),
            base[1],
        )
        return bool(rows)

    async def delete(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "DELETE FROM thread_summaries WHERE chat_id = {} AND tenant_id = {}", chat_id, tenant_id
        )
