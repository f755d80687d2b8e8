"""``chat_turns``: idempotency lookups, the running guard, the CAS finalizer and heartbeats (CI-2, CI-5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ..domain.ports import NewTurn, TurnOutcome, TurnRow, TurnTerminal
from .sql import Sql, bool_of, day_of, opt_ts, opt_uuid, ts_of, uuid_of

_COLS = (
    "id, tenant_id, chat_id, request_id, requester_user_id, state, assistant_message_id, error_code, "
    "completion_reason, reserve_tokens, max_output_tokens_applied, reserved_credits_micro, policy_version_applied, "
    "effective_model, minimal_generation_floor_applied, effective_tier, input_multiplier_micro, "
    "output_multiplier_micro, quota_period_daily, quota_period_monthly, quota_decision, downgrade_reason, "
    "settlement_method, committed_credits_micro, web_search_enabled, image_count, replaced_by_request_id, "
    "started_at, last_progress_at, completed_at, updated_at, deleted_at"
)


def turn_of(r: dict[str, Any]) -> TurnRow:
    return TurnRow(
        id=uuid_of(r["id"]),
        tenant_id=uuid_of(r["tenant_id"]),
        chat_id=uuid_of(r["chat_id"]),
        request_id=uuid_of(r["request_id"]),
        requester_user_id=opt_uuid(r["requester_user_id"]),
        state=r["state"],
        assistant_message_id=opt_uuid(r["assistant_message_id"]),
        error_code=r["error_code"],
        completion_reason=r["completion_reason"],
        reserve_tokens=int(r["reserve_tokens"] or 0),
        max_output_tokens_applied=int(r["max_output_tokens_applied"] or 0),
        reserved_credits_micro=int(r["reserved_credits_micro"] or 0),
        policy_version_applied=int(r["policy_version_applied"] or 0),
        effective_model=r["effective_model"] or "",
        minimal_generation_floor_applied=int(r["minimal_generation_floor_applied"] or 0),
        effective_tier=r["effective_tier"] or "standard",
        input_multiplier_micro=int(r["input_multiplier_micro"] or 1),
        output_multiplier_micro=int(r["output_multiplier_micro"] or 1),
        quota_period_daily=day_of(r["quota_period_daily"]),
        quota_period_monthly=day_of(r["quota_period_monthly"]),
        quota_decision=r["quota_decision"] or "allow",
        downgrade_reason=r["downgrade_reason"],
        settlement_method=r["settlement_method"],
        committed_credits_micro=None
        if r["committed_credits_micro"] is None
        else int(r["committed_credits_micro"]),
        web_search_enabled=bool_of(r["web_search_enabled"]),
        image_count=int(r["image_count"] or 0),
        replaced_by_request_id=opt_uuid(r["replaced_by_request_id"]),
        started_at=ts_of(r["started_at"]),
        last_progress_at=opt_ts(r["last_progress_at"]),
        completed_at=opt_ts(r["completed_at"]),
        updated_at=ts_of(r["updated_at"]),
        deleted_at=opt_ts(r["deleted_at"]),
    )


class TurnsRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def _one(self, where: str, *args: Any) -> TurnRow | None:
        row = await self._sql.fetch_one(f"SELECT {_COLS} FROM chat_turns WHERE {where}", *args)
        return turn_of(row) if row else None

    async def by_request(self, tenant_id: UUID, chat_id: UUID, request_id: UUID) -> TurnRow | None:
        return await self._one(
            "chat_id = {} AND request_id = {} AND tenant_id = {}", chat_id, request_id, tenant_id
        )

    async def get(self, tenant_id: UUID, turn_id: UUID) -> TurnRow | None:
        return await self._one("id = {} AND tenant_id = {}", turn_id, tenant_id)

    async def running(self, tenant_id: UUID, chat_id: UUID) -> TurnRow | None:
        return await self._one(
            "chat_id = {} AND tenant_id = {} AND state = 'running' AND deleted_at IS NULL", chat_id, tenant_id
        )

    async def latest(self, tenant_id: UUID, chat_id: UUID, *, lock: bool = False) -> TurnRow | None:
        return await self._one(
            "chat_id = {} AND tenant_id = {} AND deleted_at IS NULL ORDER BY started_at DESC, id DESC LIMIT 1"
            + self._sql.lock() * lock,
            chat_id,
            tenant_id,
        )

    async def running_in_chat_ids(self, tenant_id: UUID, chat_id: UUID) -> list[UUID]:
        rows = await self._sql.fetch(
            "SELECT id FROM chat_turns WHERE chat_id = {} AND tenant_id = {} AND state = 'running'",
            chat_id,
            tenant_id,
        )
        return [uuid_of(r["id"]) for r in rows]

    async def insert(self, t: NewTurn) -> None:
        s = self._sql
        await s.execute(
            "INSERT INTO chat_turns (id, tenant_id, chat_id, request_id, requester_type, requester_user_id, state, "
            "provider_name, reserve_tokens, max_output_tokens_applied, reserved_credits_micro, policy_version_applied, "
            "effective_model, minimal_generation_floor_applied, effective_tier, input_multiplier_micro, "
            "output_multiplier_micro, quota_period_daily, quota_period_monthly, quota_decision, downgrade_reason, "
            "web_search_enabled, image_count, started_at, last_progress_at, updated_at) VALUES "
            "({}, {}, {}, {}, 'user', {}, 'running', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
            "{}, {}, {})",
            t.id,
            t.tenant_id,
            t.chat_id,
            t.request_id,
            t.requester_user_id,
            t.provider_name,
            t.reserve_tokens,
            t.max_output_tokens_applied,
            t.reserved_credits_micro,
            t.policy_version_applied,
            t.effective_model,
            t.minimal_generation_floor_applied,
            t.effective_tier,
            t.input_multiplier_micro,
            t.output_multiplier_micro,
            s.day(t.quota_period_daily),
            s.day(t.quota_period_monthly),
            t.quota_decision,
            t.downgrade_reason,
            t.web_search_enabled,
            t.image_count,
            s.ts(t.started_at),
            s.ts(t.started_at),
            s.ts(t.started_at),
        )

    async def cas_terminal(
        self, tenant_id: UUID, turn_id: UUID, terminal: TurnTerminal, *, stale_cutoff: datetime | None = None
    ) -> TurnRow | None:
        s = self._sql
        stale = " AND last_progress_at <= {}" if stale_cutoff is not None else ""
        extra = (s.ts(stale_cutoff),) if stale_cutoff is not None else ()
        rows = await s.fetch(
            "UPDATE chat_turns SET state = {}, error_code = {}, error_detail = {}, completion_reason = {}, "
            "provider_response_id = {}, completed_at = {}, updated_at = {} "
            "WHERE id = {} AND tenant_id = {} AND state = 'running'" + stale + " RETURNING id",
            terminal.state,
            terminal.error_code,
            terminal.error_detail,
            terminal.completion_reason,
            terminal.provider_response_id,
            s.ts(terminal.completed_at),
            s.ts(terminal.completed_at),
            turn_id,
            tenant_id,
            *extra,
        )
        if not rows:
            return None
        return await self.get(tenant_id, turn_id)

    async def write_outcome(
        self, tenant_id: UUID, turn_id: UUID, outcome: TurnOutcome, assistant_message_id: UUID | None
    ) -> None:
        await self._sql.execute(
            "UPDATE chat_turns SET settlement_method = {}, committed_credits_micro = {}, overshoot_capped = {}, "
            "web_search_completed_count = {}, code_interpreter_completed_count = {}, file_search_completed_count = {},"
            " assistant_message_id = {} WHERE id = {} AND tenant_id = {}",
            outcome.settlement_method,
            outcome.committed_credits_micro,
            outcome.overshoot_capped,
            outcome.web_search_completed_count,
            outcome.code_interpreter_completed_count,
            outcome.file_search_completed_count,
            assistant_message_id,
            turn_id,
            tenant_id,
        )

    async def heartbeat(self, tenant_id: UUID, turn_id: UUID, now: datetime) -> bool:
        rows = await self._sql.fetch(
            "UPDATE chat_turns SET last_progress_at = {} WHERE id = {} AND tenant_id = {} AND state = 'running' "
            "AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM chats c WHERE c.id = chat_turns.chat_id "
            "AND c.deleted_at IS NULL) RETURNING id",
            self._sql.ts(now),
            turn_id,
            tenant_id,
        )
        return bool(rows)

    async def soft_delete(
        self, tenant_id: UUID, turn_id: UUID, now: datetime, replaced_by: UUID | None = None
    ) -> bool:
        rows = await self._sql.fetch(
            "UPDATE chat_turns SET deleted_at = {}, updated_at = {}, replaced_by_request_id = {} "
            "WHERE id = {} AND tenant_id = {} AND deleted_at IS NULL AND state <> 'running' RETURNING id",
            self._sql.ts(now),
            self._sql.ts(now),
            replaced_by,
            turn_id,
            tenant_id,
        )
        return bool(rows)
