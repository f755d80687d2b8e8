"""Preflight P5–P9 (CI-3) for sends, retries and edits: reads, cheap checks, then ONE transaction that runs the
cascade on locked quota rows, assembles the context, reserves, and writes user message + links + running turn
(+ for mutations: replaces the old turn). Any rejection rolls everything back (C-8.1, C-12.2)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal
from uuid import UUID, uuid4

import msgspec

from fabrikit.kernel.security import SecurityContext

from ..config import MiniChatConfig
from ..sdk import AuditAttachment, ModelCatalogEntry, TurnMutationAuditEvent
from .cascade import check_daily_tool_quotas, required_row_keys, run_cascade, tiers_to_try
from .context import ContextInputs, HistoryMessage, ToolPlan, assemble_context, decide_tools
from .credits import PERIOD_TYPES, buckets_for_tier, periods_at
from .errors import (
    GenerationInProgress,
    ImagesDisabled,
    InvalidAttachment,
    InvalidTurnState,
    NotLatestTurn,
    QuotaExceeded,
    ServiceUnavailable,
    TooManyImages,
    UnsupportedMedia,
    WebSearchDisabled,
)
from .estimation import as_budgets, check_input_length, estimate_input
from .finalizer import TurnContext
from .ids import new_uuid7, strictly_after
from .models import provider_kind_of, supports_vision
from .policy import Policy, PolicyGateway
from .ports import (
    AttachmentRow,
    AuditEnvelope,
    ChatRow,
    Clock,
    MessageRow,
    NewMessage,
    NewTurn,
    OutboxPort,
    ProviderRequest,
    Store,
    TurnRow,
    UniqueViolation,
)
from .provider_events import FileRef
from .provider_requests import build_request_body
from .quota_rows import row_of
from .service_api import StreamStart
from .sse import StreamStarted, ThreadSummaryApplied
from .telemetry import NO_TELEMETRY, Telemetry
from .turn_runner import TurnPlan, TurnRunner
from .turns import Ending

_log = logging.getLogger("fabrikit.mini_chat.preflight")
Mutation = Literal["turn_retry", "turn_edit"]


class TurnRequest(msgspec.Struct, frozen=True, kw_only=True):
    ctx: SecurityContext
    chat: ChatRow
    request_id: UUID
    content: str
    attachment_ids: tuple[UUID, ...] = ()
    web_search: bool = False
    replacing: TurnRow | None = None
    mutation: Mutation | None = None


class _Restart(Exception):
    """P8.7: an input changed between P6 and the transaction; read again."""


class _Inputs(msgspec.Struct, frozen=True, kw_only=True):
    boundary: MessageRow | None
    prior_tokens: int
    ready: tuple[AttachmentRow, ...]
    named: tuple[AttachmentRow, ...]
    images: tuple[AttachmentRow, ...]
    vector_store_id: str | None
    summary_text: str | None
    summary_tokens: int
    recent: tuple[MessageRow, ...]


class Preflight:
    def __init__(
        self,
        *,
        config: MiniChatConfig,
        store: Store,
        policy: PolicyGateway,
        outbox: OutboxPort,
        clock: Clock,
        runner: TurnRunner,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.telemetry = telemetry
        self._config = config
        self._store = store
        self._policy = policy
        self._outbox = outbox
        self._clock = clock
        self._runner = runner
        self._kinds = {pid: p.kind for pid, p in config.providers.items()}

    async def start(self, req: TurnRequest) -> StreamStart | None:
        """P5–P9; ``None`` = the ``(chat_id, request_id)`` row appeared concurrently (caller redoes P3)."""
        policy = await self._policy.current(req.ctx.subject_tenant_id, req.ctx.subject_id)  # P5
        for _ in range(3):
            inputs = await self._load(req)  # P6
            self._cheap_checks(req, policy, inputs)  # P7
            try:
                plan = await self._commit(req, policy, inputs)  # P8
            except _Restart:
                continue
            except QuotaExceeded:
                self.telemetry.count("quota_preflight", decision="reject", model=req.chat.model, tier="none")
                raise
            except UniqueViolation as exc:
                if exc.index == "turn_request" and req.replacing is None:
                    return None
                raise GenerationInProgress("A reply is already being generated in this chat.") from None
            return await self._launch(plan)  # P9
        raise ServiceUnavailable("The chat is changing too fast; try again.")

    # -- P6 / P7 -------------------------------------------------------------------------------------------

    async def _load(self, req: TurnRequest) -> _Inputs:
        s, tenant, chat_id = self._store, req.ctx.subject_tenant_id, req.chat.id
        boundary = await s.messages.boundary(tenant, chat_id)
        summary = await s.summaries.get(tenant, chat_id)
        frontier = (summary.frontier_created_at, summary.frontier_message_id) if summary else None
        recent = await s.messages.recent(
            tenant,
            chat_id,
            after=frontier,
            upto=(boundary.created_at, boundary.id) if boundary else None,
            limit=self._config.context.recent_messages_limit + 1,
        )
        if req.replacing is not None:  # the replaced turn's messages leave the history
            recent = [m for m in recent if m.request_id != req.replacing.request_id]
        named = await s.attachments.by_ids(tenant, chat_id, req.attachment_ids)
        order = {aid: i for i, aid in enumerate(req.attachment_ids)}
        named = sorted(named, key=lambda a: order[a.id])
        if req.replacing is not None:  # attachments deleted or no longer ready since are dropped (C-12.3)
            named = [a for a in named if a.status == "ready"]
        ready = tuple(await s.attachments.ready_of_chat(tenant, chat_id))
        searchable = any(a.for_file_search for a in ready)  # else there is no store worth a query
        return _Inputs(
            boundary=boundary,
            prior_tokens=await s.messages.prior_context_tokens(tenant, chat_id),
            ready=ready,
            named=tuple(named),
            images=tuple(a for a in named if a.attachment_kind == "image"),
            vector_store_id=await s.attachments.vector_store_id(tenant, chat_id) if searchable else None,
            summary_text=summary.summary_text if summary else None,
            summary_tokens=summary.token_estimate if summary else 0,
            recent=tuple(recent),
        )

    def _cheap_checks(self, req: TurnRequest, policy: Policy, inputs: _Inputs) -> None:
        if req.replacing is None:
            found = {a.id: a for a in inputs.named}
            for aid in req.attachment_ids:
                a = found.get(aid)
                if a is None or a.status != "ready" or a.uploaded_by_user_id != req.ctx.subject_id:
                    raise InvalidAttachment(f"Attachment {aid} cannot be used with this message.")
        if len(inputs.images) > self._config.rag.max_images_per_message:
            raise TooManyImages(f"At most {self._config.rag.max_images_per_message} images per message.")
        if req.web_search and policy.snapshot.kill_switches.disable_web_search:
            raise WebSearchDisabled("Web search is disabled.")

    # -- P8 ------------------------------------------------------------------------------------------------

    def _tools(self, model: ModelCatalogEntry, policy: Policy, req: TurnRequest, inputs: _Inputs) -> ToolPlan:
        fs_docs = [a for a in inputs.ready if a.for_file_search and a.attachment_kind == "document"]
        ci_files = [a.provider_file_id for a in inputs.ready if a.for_code_interpreter and a.provider_file_id]
        return decide_tools(
            model,
            provider_kind_of(model, self._kinds),
            policy.snapshot.kill_switches,
            vector_store_id=inputs.vector_store_id,
            has_file_search_documents=bool(fs_docs),
            web_search_requested=req.web_search,
            code_interpreter_file_ids=ci_files,
        )

    async def _commit(self, req: TurnRequest, policy: Policy, inputs: _Inputs) -> TurnPlan:
        s, cfg = self._store, self._config
        tenant, user, chat = req.ctx.subject_tenant_id, req.ctx.subject_id, req.chat
        kill = policy.snapshot.kill_switches
        module_budgets = cfg.estimation_budgets
        now = self._clock.now()
        periods = periods_at(now)
        starts = {"daily": periods.daily, "monthly": periods.monthly}
        images = len(inputs.images)

        def est_for(candidate: ModelCatalogEntry) -> int:
            tools = self._tools(candidate, policy, req, inputs)
            return estimate_input(
                req.content,
                module_budgets,
                images=images,
                file_search=tools.file_search is not None,
                web_search=tools.web_search is not None,
                code_interpreter=tools.code_interpreter is not None,
                prior_context_tokens=inputs.prior_tokens,
            ).estimated_input_tokens

        async with s.tx.write() as txn:
            if req.replacing is not None:
                latest = await s.turns.latest(tenant, chat.id, lock=True)
                if latest is None or latest.id != req.replacing.id:
                    raise NotLatestTurn("Only the latest turn can be changed.")
                if latest.state == "running":
                    raise InvalidTurnState("The turn is still running.")
            keys = required_row_keys(tiers_to_try(policy.catalog.entries, chat.model, kill))
            rows = await s.quota.ensure_and_lock(tenant, user, keys, starts, now)
            cascade = run_cascade(
                catalog=policy.catalog.entries,
                selected_model=chat.model,
                kill_switches=kill,
                limits=policy.limits,
                rows=rows,
                estimated_input_tokens=est_for,
                config_max_output_tokens=cfg.streaming.max_output_tokens,
            )
            model = cascade.effective
            kind = provider_kind_of(model, self._kinds)
            tools = self._tools(model, policy, req, inputs)
            check_daily_tool_quotas(
                row_of(rows, "total", "daily"),
                web_search_requested=req.web_search,
                code_interpreter_offered=tools.code_interpreter is not None,
                web_search_daily_quota=cfg.quota.web_search_daily_quota,
                code_interpreter_daily_quota=cfg.quota.code_interpreter_daily_quota,
            )
            text_tokens = estimate_input(req.content, module_budgets).text_tokens
            check_input_length(text_tokens, model.effective_max_input_tokens)
            if images and kill.disable_images:
                raise ImagesDisabled("Image input is disabled.")
            if images and not supports_vision(model, kind):
                raise UnsupportedMedia("The model does not accept images.")
            budgets = model.estimation_budgets or as_budgets(module_budgets)
            context = assemble_context(
                ContextInputs(
                    model=model,
                    budgets=budgets,
                    max_output_tokens=cascade.max_output_tokens_applied,
                    tools=tools,
                    user_text=req.content,
                    image_file_ids=tuple(a.provider_file_id or "" for a in inputs.images),
                    summary_text=inputs.summary_text,
                    recent=tuple(HistoryMessage(role=m.role, content=m.content) for m in inputs.recent),  # type: ignore[arg-type]
                    recent_messages_limit=cfg.context.recent_messages_limit,
                )
            )
            if model.provider_id not in cfg.providers:
                raise ServiceUnavailable("No provider is configured for the model.")
            body = build_request_body(kind, context, model, chat_id=chat.id, user=f"{tenant}:{user}")
            # P8.7: re-verify under the write lock.
            if inputs.named:
                again = await s.attachments.by_ids(tenant, chat.id, [a.id for a in inputs.named])
                if len(again) != len(inputs.named) or any(a.status != "ready" for a in again):
                    raise _Restart()
            if (
                inputs.boundary is not None
                and not await s.messages.is_live(tenant, chat.id, inputs.boundary.id)
                and (req.replacing is None or inputs.boundary.request_id != req.replacing.request_id)
            ):
                raise _Restart()
            if req.replacing is not None:
                await self._replace_old(txn, req, now)
            reserve_keys = [(b, p) for b in buckets_for_tier(cascade.effective_tier) for p in PERIOD_TYPES]
            await s.quota.add_reserved(
                tenant, user, reserve_keys, starts, cascade.reserved_credits_micro, now
            )
            turn_id, user_msg_id, assistant_id = new_uuid7(), new_uuid7(), new_uuid7()
            user_created = strictly_after(now, inputs.boundary.created_at if inputs.boundary else None)
            await s.messages.insert(
                NewMessage(
                    id=user_msg_id,
                    tenant_id=tenant,
                    chat_id=chat.id,
                    request_id=req.request_id,
                    role="user",
                    content=req.content,
                    created_at=user_created,
                    token_estimate=text_tokens,
                )
            )
            await s.attachments.link(tenant, chat.id, user_msg_id, [a.id for a in inputs.named], now)
            await s.turns.insert(
                NewTurn(
                    id=turn_id,
                    tenant_id=tenant,
                    chat_id=chat.id,
                    request_id=req.request_id,
                    requester_user_id=user,
                    provider_name=model.provider_id,
                    reserve_tokens=cascade.reserve_tokens,
                    max_output_tokens_applied=cascade.max_output_tokens_applied,
                    reserved_credits_micro=cascade.reserved_credits_micro,
                    policy_version_applied=policy.version,
                    effective_model=model.id,
                    minimal_generation_floor_applied=budgets.minimal_generation_floor,
                    effective_tier=cascade.effective_tier,
                    input_multiplier_micro=model.input_tokens_credit_multiplier_micro,
                    output_multiplier_micro=model.output_tokens_credit_multiplier_micro,
                    quota_period_daily=periods.daily,
                    quota_period_monthly=periods.monthly,
                    quota_decision=cascade.decision,
                    downgrade_reason=cascade.downgrade_reason,
                    web_search_enabled=req.web_search,
                    image_count=images,
                    started_at=now,
                )
            )
            await s.chats.touch(tenant, chat.id, now)
            if req.replacing is not None and req.mutation is not None:
                await self._outbox.enqueue_audit(
                    txn,
                    AuditEnvelope(
                        type="mutation",
                        event=TurnMutationAuditEvent(
                            event_id=uuid4(),
                            event_type=req.mutation,
                            timestamp=now,
                            tenant_id=tenant,
                            requester_type="user",
                            actor_user_id=user,
                            chat_id=chat.id,
                            turn_id=turn_id,
                            original_request_id=req.replacing.request_id,
                            new_request_id=req.request_id,
                        ),
                    ),
                )
        self._outbox.flush()
        self.telemetry.count(
            "quota_preflight", decision=cascade.decision, model=model.id, tier=cascade.effective_tier
        )
        for period in PERIOD_TYPES:
            self.telemetry.count("quota_reserve", period=period)
        file_map = {
            a.provider_file_id: FileRef(a.id, a.filename)
            for a in inputs.ready
            if a.provider_file_id and a.for_file_search
        }
        ctx = TurnContext(
            tenant_id=tenant,
            user_id=user,
            chat_id=chat.id,
            turn_id=turn_id,
            request_id=req.request_id,
            user_message_id=user_msg_id,
            user_message_created_at=user_created,
            assistant_message_id=assistant_id,
            selected_model=chat.model,
            prompt=req.content,
            attachments=tuple(
                AuditAttachment(
                    attachment_id=a.id,
                    attachment_kind=a.attachment_kind,
                    filename=a.filename,
                    content_type=a.content_type,
                    size_bytes=a.size_bytes,
                    image_used_in_turn=a.attachment_kind == "image" or None,
                )
                for a in inputs.named
            ),
            features=tools.features,
            messages_truncated=context.messages_truncated,
            estimated_context_tokens=context.estimated_context_tokens,
            context_window=model.context_window,
            max_output_tokens=cascade.max_output_tokens_applied,
            has_summary=inputs.summary_text is not None,
        )
        return TurnPlan(
            ctx=ctx,
            request=ProviderRequest(
                tenant_id=tenant,
                user_id=user,
                chat_id=chat.id,
                provider_id=model.provider_id,
                provider_kind=kind,
                provider_model_id=model.provider_model_id,
                body=body,
                file_map=file_map,
                files_searchable=len(file_map),
            ),
            stream_started=StreamStarted(
                request_id=req.request_id,
                message_id=assistant_id,
                is_new_turn=True,
                thread_summary_applied=ThreadSummaryApplied(inputs.summary_tokens)
                if context.summary_used
                else None,
            ),
            effective_model=model.id,
            effective_tier=cascade.effective_tier,
            quota_decision=cascade.decision,
            downgrade_reason=cascade.downgrade_reason,
            limits=policy.limits,
            web_search_limit=cfg.quota.web_search_max_calls_per_message,
            code_interpreter_limit=cfg.quota.code_interpreter_max_calls_per_message,
        )

    async def _replace_old(self, txn: object, req: TurnRequest, now: object) -> None:
        s, tenant, old = self._store, req.ctx.subject_tenant_id, req.replacing
        assert old is not None
        if not await s.turns.soft_delete(tenant, old.id, now, replaced_by=req.request_id):  # type: ignore[arg-type]
            raise NotLatestTurn("The turn changed meanwhile.")
        deleted = await s.messages.soft_delete_turn(tenant, req.chat.id, old.request_id, now)  # type: ignore[arg-type]
        await self.invalidate_summary(tenant, req.chat.id, deleted)

    async def invalidate_summary(self, tenant_id: UUID, chat_id: UUID, deleted: Sequence[MessageRow]) -> None:
        """CI-9.5: a deleted message at or before the frontier drops the summary and the compressed marks."""
        summary = await self._store.summaries.get(tenant_id, chat_id)
        if summary is None:
            return
        frontier = (summary.frontier_created_at, summary.frontier_message_id)
        if any((m.created_at, m.id) <= frontier for m in deleted):
            await self._store.summaries.delete(tenant_id, chat_id)
            await self._store.messages.clear_compressed(tenant_id, chat_id)

    # -- P9 ------------------------------------------------------------------------------------------------

    async def _launch(self, plan: TurnPlan) -> StreamStart:
        try:
            handle = self._runner.start(plan)
        except Exception:
            _log.exception("turn could not start; finalizing", extra={"turn_id": str(plan.ctx.turn_id)})
            await self._runner_finalizer_failed(plan)
            raise
        return StreamStart(handle=handle)

    async def _runner_finalizer_failed(self, plan: TurnPlan) -> None:
        await self._runner._finalizer.finalize(plan.ctx, Ending(kind="internal_failure", dispatched=False))
