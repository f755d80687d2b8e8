"""The thread-summary task (CI-9.3): summarize a frozen message range, then store it with a compare-and-set.

Runs from the ``mini-chat.thread_summary`` outbox queue in every process (no leader): the frontier CAS decides
which of two racing workers wins, and the loser changes nothing.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from uuid import UUID

from ..config import MiniChatConfig
from ..sdk import ModelCatalogEntry, UsageEvent
from .dedupe import SYSTEM_TASK_THREAD_SUMMARY, system_dedupe_key
from .models import default_standard_model, enabled_entries
from .policy import PolicyGateway
from .ports import (
    Clock,
    CompletionRequest,
    CompletionResult,
    MessageRow,
    OutboxPort,
    ProviderCallError,
    ProviderPort,
    Store,
    SummaryRow,
    ThreadSummaryPayload,
)
from .provider_requests import build_summary_body
from .provider_usage import usage_tokens
from .summary import (
    DEFAULT_SUMMARY_PROMPT,
    Frontier,
    extract_summary,
    shrink_target,
    summary_input,
    summary_task,
    summary_token_estimate,
)
from .telemetry import NO_TELEMETRY, Telemetry

_log = logging.getLogger("fabrikit.mini_chat.summary")
# A context-length error moves the target back at most this often (CI-9.3 step 5).
MAX_SHRINKS = 2


class Outcome(enum.Enum):
    """What the outbox handler answers: SUMMARIZED, NOTHING and CONFLICT are successes."""

    SUMMARIZED = "summarized"
    NOTHING = "nothing"  # no live message left in the range
    CONFLICT = "conflict"  # another writer moved the frontier, or a summarized message was deleted meanwhile
    RETRY = "retry"
    REJECT = "reject"


class _Lost(Exception):
    """Rolls the commit transaction back: the summary lost its compare-and-set."""


def _frontier(message: MessageRow) -> Frontier:
    return Frontier(message.created_at, message.id)


def _at(frontier: Frontier) -> tuple[datetime, UUID]:
    return (frontier.created_at, frontier.message_id)


def _key(frontier: Frontier | None) -> tuple[datetime, UUID] | None:
    return _at(frontier) if frontier is not None else None


class ThreadSummaryTask:
    def __init__(
        self,
        *,
        store: Store,
        providers: ProviderPort,
        policy: PolicyGateway,
        outbox: OutboxPort,
        config: MiniChatConfig,
        clock: Clock,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._store, self._providers, self._policy = store, providers, policy
        self._outbox, self._config, self._clock = outbox, config, clock
        self.telemetry = telemetry

    async def run(self, payload: ThreadSummaryPayload, attempts: int) -> Outcome:
        """``attempts``: earlier tries of this task; the last allowed failure becomes REJECT."""
        outcome = await self._run(payload, last_try=attempts + 1 >= self._config.thread_summary.max_attempts)
        self.telemetry.count("thread_summary_execution", result=outcome.value)
        return outcome

    async def _run(self, p: ThreadSummaryPayload, *, last_try: bool) -> Outcome:
        failed = Outcome.REJECT if last_try else Outcome.RETRY
        if (p.base_created_at is None) != (p.base_message_id is None):
            return Outcome.REJECT  # half a frontier: never valid
        base = (
            Frontier(p.base_created_at, p.base_message_id)
            if p.base_created_at and p.base_message_id
            else None
        )
        target = Frontier(p.target_created_at, p.target_message_id)
        store = self._store
        stored = await store.summaries.get(p.tenant_id, p.chat_id)
        current = Frontier(stored.frontier_created_at, stored.frontier_message_id) if stored else None
        if current != base:
            self.telemetry.count("thread_summary_cas_conflicts")
            return Outcome.CONFLICT
        messages = await store.messages.between(p.tenant_id, p.chat_id, after=_key(base), upto=_at(target))
        if not messages:
            return Outcome.NOTHING
        model = await self._model(p.tenant_id, p.chat_id)
        if model is None:
            _log.warning("thread summary of chat %s: no enabled model to summarize with", p.chat_id)
            return failed
        previous = stored.summary_text if stored else None
        for shrinks in range(MAX_SHRINKS + 1):
            try:
                result = await self._call(p, model, previous, messages)
            except ProviderCallError as exc:
                shorter = shrink_target([_frontier(m) for m in messages])
                if exc.code != "context_length_exceeded" or shrinks == MAX_SHRINKS or shorter is None:
                    _log.warning("thread summary of chat %s failed: %s", p.chat_id, exc.code)
                    return failed
                messages = [m for m in messages if _frontier(m) <= shorter]
                continue
            text = extract_summary(result.text)
            if text is None:
                _log.warning("thread summary of chat %s: the model answered no <summary>", p.chat_id)
                return failed
            return await self._commit(p, base, target, messages, model, text, result)
        return failed  # pragma: no cover - the loop returns

    async def _model(self, tenant_id: UUID, chat_id: UUID) -> ModelCatalogEntry | None:
        """``summary_model_id`` if the owner's catalog enables it, else the catalog's default standard model."""
        owner = await self._store.chats.owner(tenant_id, chat_id)
        if owner is None:
            return None
        catalog = (await self._policy.current(tenant_id, owner)).catalog.entries
        wanted = self._config.summary_model_id
        if wanted:
            chosen = next((m for m in enabled_entries(catalog) if m.id == wanted), None)
            if chosen is not None:
                return chosen
        return default_standard_model(catalog)

    async def _call(
        self,
        p: ThreadSummaryPayload,
        model: ModelCatalogEntry,
        previous: str | None,
        messages: list[MessageRow],
    ) -> CompletionResult:
        cfg = self._config.thread_summary
        kind = self._config.providers[model.provider_id].kind
        text = summary_input(previous, [(m.role, m.content) for m in messages], cfg.message_char_limit)
        body = build_summary_body(
            kind,
            model,
            instructions=model.thread_summary_prompt or DEFAULT_SUMMARY_PROMPT,
            text=text,
            chat_id=p.chat_id,
        )
        return await self._providers.complete(
            CompletionRequest(
                tenant_id=p.tenant_id,
                chat_id=p.chat_id,
                provider_id=model.provider_id,
                provider_kind=kind,
                provider_model_id=model.provider_model_id,
                body=body,
                timeout_seconds=cfg.call_timeout_seconds,
            )
        )

    async def _commit(
        self,
        p: ThreadSummaryPayload,
        base: Frontier | None,
        target: Frontier,
        messages: list[MessageRow],
        model: ModelCatalogEntry,
        text: str,
        result: CompletionResult,
    ) -> Outcome:
        store, now = self._store, self._clock.now()
        reached = _frontier(messages[-1])
        summary = SummaryRow(
            summary_text=text,
            frontier_created_at=reached.created_at,
            frontier_message_id=reached.message_id,
            token_estimate=summary_token_estimate(result.usage.output_tokens if result.usage else None, text),
        )
        try:
            async with store.tx.write() as txn:
                live = await store.messages.between(
                    p.tenant_id, p.chat_id, after=_key(base), upto=_at(reached)
                )
                if [m.id for m in live] != [m.id for m in messages]:
                    raise _Lost  # a summarized message was deleted (or edited away) meanwhile
                if not await store.summaries.store(p.tenant_id, p.chat_id, _key(base), summary, now):
                    raise _Lost
                await store.messages.mark_compressed(p.tenant_id, p.chat_id, _at(reached))
                await self._outbox.enqueue_usage(txn, self._usage(p, model, result, now))
                if reached < target:  # moved back after a context-length error: the rest follows
                    await self._outbox.enqueue_thread_summary(
                        txn, summary_task(p.tenant_id, p.chat_id, reached, target)
                    )
        except _Lost:
            self.telemetry.count("thread_summary_cas_conflicts")
            return Outcome.CONFLICT
        self._outbox.flush()
        return Outcome.SUMMARIZED

    def _usage(
        self, p: ThreadSummaryPayload, model: ModelCatalogEntry, result: CompletionResult, now: datetime
    ) -> UsageEvent:
        """The system task's UsageEvent (C-19): no credits, no settlement, the tokens it used."""
        return UsageEvent(
            tenant_id=p.tenant_id,
            chat_id=p.chat_id,
            request_id=p.system_request_id,
            requester_type="system",
            selected_model=model.id,
            effective_model=model.id,
            billing_outcome="system_task",
            settlement_method="none",
            committed_credits_micro=0,
            actual_credits_micro=0,
            overshoot_capped=False,
            quota_decision="none",  # no preflight ran: a system task is never refused by quota
            web_search_calls=0,
            code_interpreter_calls=0,
            timestamp=now,
            dedupe_key=system_dedupe_key(p.tenant_id, p.system_request_id),
            system_task_type=SYSTEM_TASK_THREAD_SUMMARY,
            usage=usage_tokens(result.usage),
        )


__all__ = ["MAX_SHRINKS", "Outcome", "ThreadSummaryTask"]
