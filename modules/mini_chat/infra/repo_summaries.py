"""``thread_summaries``: the committed summary and its frontier (CI-9); the handler's writes come later."""

from __future__ import annotations

from uuid import UUID

from ..domain.ports import SummaryRow
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

    async def delete(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "DELETE FROM thread_summaries WHERE chat_id = {} AND tenant_id = {}", chat_id, tenant_id
        )
