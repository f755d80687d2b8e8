"""The one finalizer (CI-5): CAS on ``running``, settle at the stored snapshot, keep the answer, enqueue usage +
audit (+ maybe a summary) — all in one transaction. Losers change nothing and send no terminal."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID, uuid4

import msgspec

from ..config import MiniChatConfig
from ..sdk import (
    AuditAttachment,
    AuditUsage,
    LatencyMs,
    PolicyDecisions,
    QuotaDecision,
    ToolCalls,
    TurnAuditEvent,
    UsageEvent,
)
from .cascade import required_row_keys
from .credits import PERIOD_TYPES, QuotaPeriods
from .dedupe import turn_dedupe_key
from .ids import new_uuid7, strictly_after
from .ports import (
    AuditEnvelope,
    Clock,
    NewMessage,
    OutboxPort,
    Store,
    TurnOutcome,
    TurnRow,
    TurnTerminal,
)
from .provider_usage import ProviderUsage, usage_tokens
from .redaction import Redacted, redact_field
from .settlement import Settlement, ToolCounts, TurnSnapshot, derive_billing, row_settlements, settle
from .summary import Frontier, frozen_range, should_trigger, summary_task
from .telemetry import NO_TELEMETRY, Telemetry
from .turns import Ending, completion_signal, keeps_assistant_message, terminal_outcome

_log = logging.getLogger("fabrikit.mini_chat.finalizer")


class TurnContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the producer knows about its turn beyond the stored row (audit content, summary trigger inputs)."""

    tenant_id: UUID
    user_id: UUID
    chat_id: UUID
    turn_id: UUID
    request_id: UUID
    user_message_id: UUID
    user_message_created_at: datetime
    assistant_message_id: UUID
    selected_model: str
    prompt: str = ""
    attachments: tuple[AuditAttachment, ...] = ()
    features: tuple[str, ...] = ()
    messages_truncated: bool = False
    estimated_context_tokens: int = 0
    context_window: int = 0
    max_output_tokens: int = 0
    has_summary: bool = False


class FinalizeResult(msgspec.Struct, frozen=True, kw_only=True):
    won: bool
    turn: TurnRow | None = None
    settlement: Settlement | None = None
    ending: Ending | None = None  # the ending actually committed (CI-5.3 may change it)


LOST = FinalizeResult(won=False)


def snapshot_of(turn: TurnRow) -> TurnSnapshot:
    return TurnSnapshot(
        effective_tier=turn.effective_tier,  # type: ignore[arg-type]
        periods=QuotaPeriods(daily=turn.quota_period_daily, monthly=turn.quota_period_monthly),
        reserve_tokens=turn.reserve_tokens,
        max_output_tokens_applied=turn.max_output_tokens_applied,
        reserved_credits_micro=turn.reserved_credits_micro,
        minimal_generation_floor_applied=turn.minimal_generation_floor_applied,
        input_multiplier_micro=turn.input_multiplier_micro,
        output_multiplier_micro=turn.output_multiplier_micro,
    )


class Finalizer:
    def __init__(
        self,
        store: Store,
        outbox: OutboxPort,
        clock: Clock,
        config: MiniChatConfig,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._clock = clock
        self._config = config
        self.telemetry = telemetry

    async def finalize(
        self,
        ctx: TurnContext,
        ending: Ending,
        *,
        text: str = "",
        tools: ToolCounts | None = None,
        latency: LatencyMs | None = None,
        stale_cutoff: datetime | None = None,
    ) -> FinalizeResult:
        """CI-5.2, with the CI-5.3 second attempt when the first transaction fails."""
        tools = tools or ToolCounts()
        started = self._clock.monotonic()
        try:
            result = await self._attempt(ctx, ending, text, tools, latency, stale_cutoff)
        except Exception:
            _log.exception("finalization failed; retrying once", extra={"turn_id": str(ctx.turn_id)})
            retry = ending
            if ending.kind in ("completed", "incomplete"):
                retry = Ending(kind="persistence_failed", dispatched=True, usage=ending.usage)
            result = await self._attempt(ctx, retry, "", tools, latency, stale_cutoff)
        self._record(result, ending, started)
        return result

    def _record(self, result: FinalizeResult, ending: Ending, started: float) -> None:
        """Metrics after commit (CI-5.2 step 8); a lost CAS only counts ``finalize_lost``."""
        tm = self.telemetry
        if not result.won:
            tm.count("finalize_lost", ending=ending.kind)
            return
        tm.observe("finalization_latency_ms", (self._clock.monotonic() - started) * 1000)
        settlement = result.settlement
        if settlement is not None:
            for period in ("daily", "monthly"):
                tm.count("quota_commit", period=period)
                if settlement.overshoot_capped:
                    tm.count("quota_overshoot", period=period)

    async def _attempt(
        self,
        ctx: TurnContext,
        ending: Ending,
        text: str,
        tools: ToolCounts,
        latency: LatencyMs | None,
        stale_cutoff: datetime | None,
    ) -> FinalizeResult:
        store, now = self._store, self._clock.now()
        outcome = terminal_outcome(ending)
        billing = derive_billing(ending)
        if billing.unknown_error_code:
            _log.critical("unknown error code at settlement", extra={"error_code": ending.error_code})
            self.telemetry.count("unknown_error_code")
        async with store.tx.write() as txn:
            # Lock order is quota rows, then the turn — the order preflight uses (quota rows, then the turn
            # insert). The other order deadlocks on PostgreSQL against a concurrent send refused by the
            # running-turn index. The snapshot is write-once, so reading it before the CAS is safe.
            current = await store.turns.get(ctx.tenant_id, ctx.turn_id)
            if current is None or current.state != "running":
                return LOST
            frozen = snapshot_of(current)
            locked = await store.quota.ensure_and_lock(
                ctx.tenant_id,
                ctx.user_id,
                required_row_keys([frozen.effective_tier]),
                {p: frozen.periods.start_of(p) for p in PERIOD_TYPES},
                now,
            )
            turn = await store.turns.cas_terminal(
                ctx.tenant_id,
                ctx.turn_id,
                TurnTerminal(
                    state=outcome.state,
                    error_code=outcome.error_code,
                    error_detail=ending.error_detail,
                    completion_reason=outcome.completion_reason,
                    provider_response_id=ending.response_id,
                    completed_at=now,
                ),
                stale_cutoff=stale_cutoff,
            )
            if turn is None:
                return LOST
            snapshot = snapshot_of(turn)
            usage = None if ending.kind == "orphan" else ending.usage
            settlement = settle(billing.method, snapshot, usage, self._config.quota.tolerance_milli)
            for update in row_settlements(snapshot, settlement, usage, tools, turn.image_count):
                row = None
                if update.period_start == frozen.periods.start_of(update.period_type):
                    row = locked.get((update.bucket, update.period_type))
                if await store.quota.settle(ctx.tenant_id, ctx.user_id, update, now, locked=row):
                    _log.warning("quota reserved would go negative; clamped", extra={"bucket": update.bucket})
                    self.telemetry.count("quota_negative")
            assistant_id = None
            if keeps_assistant_message(outcome.state, text):
                assistant_id = ctx.assistant_message_id
                await store.messages.insert(
                    NewMessage(
                        id=assistant_id,
                        tenant_id=ctx.tenant_id,
                        chat_id=ctx.chat_id,
                        request_id=ctx.request_id,
                        role="assistant",
                        content=text,
                        created_at=strictly_after(now, ctx.user_message_created_at),
                        model=turn.effective_model,
                        usage=usage,
                        provider_response_id=ending.response_id,
                        features_used=ctx.features,
                    )
                )
            await store.turns.write_outcome(
                ctx.tenant_id,
                ctx.turn_id,
                TurnOutcome(
                    settlement_method=settlement.method,
                    committed_credits_micro=settlement.committed_credits_micro,
                    overshoot_capped=settlement.overshoot_capped,
                    web_search_completed_count=tools.web_search,
                    code_interpreter_completed_count=tools.code_interpreter,
                    file_search_completed_count=tools.file_search,
                ),
                assistant_id,
            )
            await store.chats.touch(ctx.tenant_id, ctx.chat_id, now)
            await self._outbox.enqueue_usage(
                txn, self._usage_event(ctx, turn, ending, billing.outcome, settlement, usage, tools, now)
            )
            await self._outbox.enqueue_audit(
                txn,
                AuditEnvelope(
                    type="turn",
                    event=self._audit_event(
                        ctx, turn, outcome.state, ending, usage, text, tools, latency, now
                    ),
                ),
            )
            if outcome.state == "completed":
                await self._maybe_summarize(txn, ctx)
        self._outbox.flush()
        return FinalizeResult(won=True, turn=turn, settlement=settlement, ending=ending)

    def _usage_event(
        self,
        ctx: TurnContext,
        turn: TurnRow,
        ending: Ending,
        billing_outcome: str,
        settlement: Settlement,
        usage: ProviderUsage | None,
        tools: ToolCounts,
        now: datetime,
    ) -> UsageEvent:
        outcome = terminal_outcome(ending)
        return UsageEvent(
            tenant_id=ctx.tenant_id,
            chat_id=ctx.chat_id,
            request_id=ctx.request_id,
            requester_type="user",
            selected_model=ctx.selected_model,
            effective_model=turn.effective_model,
            billing_outcome=billing_outcome,  # type: ignore[arg-type]
            settlement_method=settlement.method,
            committed_credits_micro=settlement.committed_credits_micro,
            actual_credits_micro=settlement.committed_credits_micro,
            overshoot_capped=settlement.overshoot_capped,
            quota_decision=turn.quota_decision,
            web_search_calls=tools.web_search,
            code_interpreter_calls=tools.code_interpreter,
            timestamp=now,
            dedupe_key=turn_dedupe_key(ctx.tenant_id, ctx.turn_id, ctx.request_id),
            user_id=ctx.user_id,
            turn_id=ctx.turn_id,
            terminal_state=outcome.state,  # type: ignore[arg-type]
            error_code=outcome.error_code,
            completion_signal=completion_signal(outcome.completion_reason),
            usage=usage_tokens(usage),
            reserve_tokens=turn.reserve_tokens,
            reserved_credits_micro=turn.reserved_credits_micro,
            policy_version_applied=turn.policy_version_applied,
            downgrade_from=ctx.selected_model if turn.quota_decision == "downgrade" else None,
            downgrade_reason=turn.downgrade_reason,
        )

    def _audit_event(
        self,
        ctx: TurnContext,
        turn: TurnRow,
        state: str,
        ending: Ending,
        usage: ProviderUsage | None,
        text: str,
        tools: ToolCounts,
        latency: LatencyMs | None,
        now: datetime,
    ) -> TurnAuditEvent:
        cfg = self._config.audit
        prompt = response = None
        if cfg.include_content:
            prompt = self._redact(ctx.prompt)
            response = self._redact(text) if text else None
        outcome = terminal_outcome(ending)
        return TurnAuditEvent(
            event_id=uuid4(),
            event_type="turn_completed" if state == "completed" else "turn_failed",
            timestamp=now,
            tenant_id=ctx.tenant_id,
            requester_type="user",
            user_id=ctx.user_id,
            chat_id=ctx.chat_id,
            turn_id=ctx.turn_id,
            request_id=ctx.request_id,
            terminal_state=state,  # type: ignore[arg-type]
            selected_model=ctx.selected_model,
            effective_model=turn.effective_model,
            latency_ms=latency or LatencyMs(),
            policy_decisions=PolicyDecisions(
                quota=QuotaDecision(
                    decision=turn.quota_decision,
                    downgrade_from=ctx.selected_model if turn.quota_decision == "downgrade" else None,
                    downgrade_reason=turn.downgrade_reason,
                )
            ),
            attachments=tuple(self._redact_attachment(a) for a in ctx.attachments),
            policy_version_applied=turn.policy_version_applied,
            usage=(
                AuditUsage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    model=turn.effective_model,
                    cache_read_input_tokens=usage.cache_read_input_tokens,
                    cache_write_input_tokens=usage.cache_write_input_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                )
                if usage is not None
                else None
            ),
            error_code=outcome.error_code,
            prompt=prompt,
            response=response,
            tool_calls=ToolCalls(
                file_search_calls=tools.file_search,
                web_search_calls=tools.web_search,
                code_interpreter_calls=tools.code_interpreter,
            ),
        )

    def _redact(self, text: str) -> str:
        """CI-17.5 before the event leaves the module: the redaction table, then the UTF-8-safe cut."""
        redacted: Redacted = redact_field(text, self._config.audit.field_max_bytes)
        for pattern, hits in redacted.hits.items():
            self.telemetry.add("audit_redaction_hits", hits, pattern=pattern)
        return redacted.text

    def _redact_attachment(self, a: AuditAttachment) -> AuditAttachment:
        """Filenames and document summaries are free text too (CI-17.5 "every other free-text field")."""
        return msgspec.structs.replace(
            a,
            filename=None if a.filename is None else self._redact(a.filename),
            doc_summary=None if a.doc_summary is None else self._redact(a.doc_summary),
        )

    async def _maybe_summarize(self, txn: object, ctx: TurnContext) -> None:
        """CI-9.1/9.2: evaluated in the finalization transaction of a completed turn."""
        cfg = self._config.thread_summary
        if not cfg.enabled or not should_trigger(
            messages_truncated=ctx.messages_truncated,
            has_summary=ctx.has_summary,
            estimated_context_tokens=ctx.estimated_context_tokens,
            context_window=ctx.context_window,
            max_output_tokens=ctx.max_output_tokens,
            trigger_pct=cfg.trigger_pct,
        ):
            return
        store = self._store
        summary = await store.summaries.get(ctx.tenant_id, ctx.chat_id)
        base = Frontier(summary.frontier_created_at, summary.frontier_message_id) if summary else None
        newest = await store.messages.newest_before(
            ctx.tenant_id, ctx.chat_id, (ctx.user_message_created_at, ctx.user_message_id)
        )
        target = Frontier(newest.created_at, newest.id) if newest else None
        frozen = frozen_range(base, target)
        if frozen is None:
            self.telemetry.count("thread_summary_trigger", result="nothing_new")
            return
        self.telemetry.count("thread_summary_trigger", result="enqueued")
        await self._outbox.enqueue_thread_summary(
            txn,
            summary_task(ctx.tenant_id, ctx.chat_id, frozen.base, frozen.target),
        )


__all__ = ["LOST", "FinalizeResult", "Finalizer", "TurnContext", "new_uuid7", "snapshot_of"]
