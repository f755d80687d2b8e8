"""``MiniChatEngine``: the ``MiniChatService`` implementation (C-6 … C-16, CI-3, CI-11, CI-17.1)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from uuid import UUID, uuid4

from fabrikit.kernel.errors import FieldError
from fabrikit.kernel.security import AccessScope, SecurityContext
from fabrikit.modules.authz_resolver.sdk import AccessDenied, AccessRequest, ResourceType

from ..config import MiniChatConfig
from ..sdk import CHAT_RESOURCE_TYPE, MODEL_RESOURCE_TYPE, USER_QUOTA_RESOURCE_TYPE, TurnDeleteAuditEvent
from .attachments import AttachmentDetail
from .cleanup import Cleanup
from .credits import periods_at
from .errors import (
    ChatNotFound,
    Forbidden,
    InvalidReactionTarget,
    InvalidTurnState,
    MessageNotFound,
    NotLatestTurn,
    TurnNotFound,
    ValidationFailed,
)
from .finalizer import Finalizer
from .ids import format_rfc3339, new_uuid7
from .listing import plan_chats, plan_messages
from .models import choose_chat_model, find_listed_model, listed_models, public_model
from .policy import PolicyGateway
from .ports import (
    AuditEnvelope,
    Authorizer,
    ChatCleanupPayload,
    ChatRow,
    Clock,
    MessageRow,
    OutboxPort,
    ProviderFiles,
    ProviderPort,
    Store,
    TurnRow,
)
from .preflight import Preflight, TurnRequest
from .quota_status import QuotaStatus, quota_status
from .replay import replay_handle
from .service_api import (
    ChatDetail,
    CreateChatBody,
    EditTurnBody,
    ListParams,
    ListResult,
    Message,
    MessageAttachment,
    Model,
    ModelList,
    ReactionBody,
    ReactionView,
    SendMessageBody,
    StreamStart,
    Thumbnail,
    TurnStatus,
    UpdateChatBody,
)
from .summary_task import ThreadSummaryTask
from .telemetry import NO_TELEMETRY, Telemetry
from .turn_runner import TurnRunner
from .turns import turn_status_view
from .uploads import Attachments, Thumbnailer, UploadSource

_log = logging.getLogger("fabrikit.mini_chat.service")
CHAT = ResourceType(CHAT_RESOURCE_TYPE, ("owner_tenant_id", "owner_id", "id"))
MODEL = ResourceType(MODEL_RESOURCE_TYPE, ("owner_tenant_id",))  # permission only; scope unused
_PERMISSION_ONLY = AccessRequest(require_constraints=False)
QUOTA = ResourceType(USER_QUOTA_RESOURCE_TYPE, ("owner_tenant_id", "owner_id"))
TITLE_MAX = 255
MAX_ATTACHMENTS = 20


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field=field, message=message, code="invalid")])


def clean_title(raw: str | None, *, required: bool) -> str | None:
    """C-6.1: stripped; empty → 400; more than 255 code points → 400."""
    if raw is None:
        if required:
            raise _field_error("title", "title is required")
        return None
    title = raw.strip()
    if not title:
        raise _field_error("title", "title must not be blank")
    if len(title) > TITLE_MAX:
        raise _field_error("title", f"title must be at most {TITLE_MAX} characters")
    return title


def chat_detail(row: ChatRow) -> ChatDetail:
    return ChatDetail(
        id=row.id,
        model=row.model,
        title=row.title,
        is_temporary=row.is_temporary,
        message_count=row.message_count,
        created_at=format_rfc3339(row.created_at),
        updated_at=format_rfc3339(row.updated_at),
    )


class MiniChatEngine:
    def __init__(
        self,
        *,
        config: MiniChatConfig,
        store: Store,
        authz: Authorizer,
        policy: PolicyGateway,
        provider: ProviderPort,
        outbox: OutboxPort,
        clock: Clock,
        files: ProviderFiles,
        thumbnail: Thumbnailer | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.config = config
        self.store = store
        self.authz = authz
        self.policy = policy
        self.outbox = outbox
        self.clock = clock
        self.finalizer = Finalizer(store, outbox, clock, config)
        self.runner = TurnRunner(store, provider, self.finalizer, clock, config)
        self.preflight = Preflight(
            config=config, store=store, policy=policy, outbox=outbox, clock=clock, runner=self.runner
        )
        self.attachments = Attachments(
            store=store,
            files=files,
            policy=policy,
            outbox=outbox,
            config=config,
            clock=clock,
            thumbnail=thumbnail,
        )
        self.cleanup = Cleanup(store=store, files=files, outbox=outbox, config=config, clock=clock)
        self.summaries = ThreadSummaryTask(
            store=store, providers=provider, policy=policy, outbox=outbox, config=config, clock=clock
        )
        self.use_telemetry(telemetry)

    def use_telemetry(self, telemetry: Telemetry) -> None:
        """Where engine metrics go (CI-16); the module passes the Prometheus adapter."""
        self.telemetry = telemetry
        self.finalizer.telemetry = telemetry
        self.runner.telemetry = telemetry
        self.preflight.telemetry = telemetry
        self.summaries.telemetry = telemetry
        self.cleanup.telemetry = telemetry

    # -- access --------------------------------------------------------------------------------------------

    async def check_license(self, ctx: SecurityContext) -> None:
        await self.policy.check_license(ctx.subject_tenant_id, ctx.subject_id)

    async def _scope(
        self, ctx: SecurityContext, resource: ResourceType, action: str, resource_id: UUID | None
    ) -> AccessScope:
        await self.check_license(ctx)
        # Models are permission-only (C-2.3): an allow without row constraints is enough.
        request = _PERMISSION_ONLY if resource is MODEL else None
        try:
            return await self.authz.access_scope(
                ctx, resource, action, resource_id=resource_id, request=request
            )
        except AccessDenied as exc:
            # Only a real deny of a named chat is masked as 404 (C-2.5); unusable constraints fail closed as 403.
            if (
                resource_id is not None
                and resource is CHAT
                and getattr(exc, "cause", None) == "decision_false"
            ):
                raise ChatNotFound("Chat not found.") from None
            raise

    async def _chat(self, ctx: SecurityContext, chat_id: UUID, action: str) -> ChatRow:
        """P2 and every chat-addressed route: PEP scope + owner filter in SQL; deny or no row → 404 (C-2.5)."""
        scope = await self._scope(ctx, CHAT, action, chat_id)
        row = await self.store.chats.get(scope, ctx.subject_tenant_id, ctx.subject_id, chat_id)
        if row is None:
            raise ChatNotFound("Chat not found.")
        return row

    # -- models (C-15) -------------------------------------------------------------------------------------

    async def list_models(self, ctx: SecurityContext) -> ModelList:
        await self._scope(ctx, MODEL, "list", None)
        policy = await self.policy.current(ctx.subject_tenant_id, ctx.subject_id)
        return ModelList(items=tuple(public_model(e) for e in listed_models(policy.catalog.entries)))

    async def get_model(self, ctx: SecurityContext, model_id: str) -> Model:
        await self._scope(ctx, MODEL, "read", None)
        policy = await self.policy.current(ctx.subject_tenant_id, ctx.subject_id)
        return public_model(find_listed_model(policy.catalog.entries, model_id))

    # -- chats (C-6) ---------------------------------------------------------------------------------------

    async def create_chat(self, ctx: SecurityContext, body: CreateChatBody) -> ChatDetail:
        await self._scope(ctx, CHAT, "create", None)
        title = clean_title(body.title, required=False)
        policy = await self.policy.current(ctx.subject_tenant_id, ctx.subject_id)
        model = choose_chat_model(policy.catalog.entries, body.model)
        now = self.clock.now()
        row = ChatRow(
            id=new_uuid7(),
            tenant_id=ctx.subject_tenant_id,
            user_id=ctx.subject_id,
            model=model.id,
            title=title,
            is_temporary=False,
            created_at=now,
            updated_at=now,
        )
        async with self.store.tx.write():
            await self.store.chats.insert(row)
        return chat_detail(row)

    async def list_chats(self, ctx: SecurityContext, query: ListParams) -> ListResult[ChatDetail]:
        scope = await self._scope(ctx, CHAT, "list", None)
        plan = plan_chats(query)
        page = await self.store.chats.page(scope, ctx.subject_tenant_id, ctx.subject_id, plan)
        return ListResult(
            items=[chat_detail(r) for r in page.items], page_info=page.page_info, select=plan.select
        )

    # -- attachments (C-13) ----------------------------------------------------------------------------------

    async def upload_attachment(
        self, ctx: SecurityContext, chat_id: UUID, source: UploadSource
    ) -> AttachmentDetail:
        chat = await self._chat(ctx, chat_id, "upload_attachment")
        return await self.attachments.upload(ctx, chat, source)

    async def get_attachment(
        self, ctx: SecurityContext, chat_id: UUID, attachment_id: UUID
    ) -> AttachmentDetail:
        chat = await self._chat(ctx, chat_id, "read_attachment")
        return await self.attachments.get(ctx, chat, attachment_id)

    async def delete_attachment(self, ctx: SecurityContext, chat_id: UUID, attachment_id: UUID) -> None:
        chat = await self._chat(ctx, chat_id, "delete_attachment")
        await self.attachments.delete(ctx, chat, attachment_id)

    async def get_chat(self, ctx: SecurityContext, chat_id: UUID) -> ChatDetail:
        return chat_detail(await self._chat(ctx, chat_id, "read"))

    async def ensure_chat(self, ctx: SecurityContext, chat_id: UUID, action: str) -> None:
        await self._chat(ctx, chat_id, action)

    async def update_chat(self, ctx: SecurityContext, chat_id: UUID, body: UpdateChatBody) -> ChatDetail:
        await self.check_license(ctx)
        title = clean_title(body.title, required=True)
        assert title is not None
        scope = await self._scope(ctx, CHAT, "update", chat_id)
        tenant, user = ctx.subject_tenant_id, ctx.subject_id
        async with self.store.tx.write():
            row = await self.store.chats.get(scope, tenant, user, chat_id, lock=True)
            if row is None:
                raise ChatNotFound("Chat not found.")
            await self.store.chats.update_title(tenant, chat_id, title, self.clock.now())
            row = await self.store.chats.get(scope, tenant, user, chat_id)
        assert row is not None
        return chat_detail(row)

    async def delete_chat(self, ctx: SecurityContext, chat_id: UUID) -> None:
        """C-6.4: soft delete + attachments marked for cleanup + chat-cleanup job, one transaction."""
        scope = await self._scope(ctx, CHAT, "delete", chat_id)
        tenant = ctx.subject_tenant_id
        now = self.clock.now()
        async with self.store.tx.write() as txn:
            row = await self.store.chats.get(scope, tenant, ctx.subject_id, chat_id, lock=True)
            if row is None or not await self.store.chats.soft_delete(tenant, chat_id, now):
                raise ChatNotFound("Chat not found.")
            await self.store.attachments.mark_chat_cleanup(tenant, chat_id, now)
            await self.outbox.enqueue_chat_cleanup(
                txn,
                ChatCleanupPayload(
                    reason="chat_soft_delete",
                    tenant_id=tenant,
                    chat_id=chat_id,
                    system_request_id=uuid4(),
                    chat_deleted_at=now,
                ),
            )
        self.outbox.flush()
        self.runner.cancel_chat(chat_id, "chat_deleted")

    # -- messages (C-7) and reactions (C-14) ---------------------------------------------------------------

    async def list_messages(
        self, ctx: SecurityContext, chat_id: UUID, query: ListParams
    ) -> ListResult[Message]:
        chat = await self._chat(ctx, chat_id, "list_messages")
        plan = plan_messages(query)
        page = await self.store.messages.page(ctx.subject_tenant_id, chat.id, plan)
        items = await self._messages(ctx, chat.id, page.items)
        return ListResult(items=items, page_info=page.page_info, select=plan.select)

    async def _messages(
        self, ctx: SecurityContext, chat_id: UUID, rows: Sequence[MessageRow]
    ) -> list[Message]:
        tenant = ctx.subject_tenant_id
        ids = [r.id for r in rows]
        links = await self.store.attachments.links_of(tenant, chat_id, ids)
        reactions = await self.store.reactions.of_messages(tenant, ctx.subject_id, ids)
        by_message: dict[UUID, list[MessageAttachment]] = {}
        for link in links:
            a = link.attachment
            thumb = None
            if a.img_thumbnail is not None and a.img_thumbnail_width and a.img_thumbnail_height:
                thumb = Thumbnail(
                    content_type="image/webp",
                    width=a.img_thumbnail_width,
                    height=a.img_thumbnail_height,
                    data_base64=base64.b64encode(a.img_thumbnail).decode("ascii"),
                )
            by_message.setdefault(link.message_id, []).append(
                MessageAttachment(
                    attachment_id=a.id,
                    kind=a.attachment_kind,
                    filename=a.filename,
                    status=a.status,
                    img_thumbnail=thumb,
                )
            )
        out: list[Message] = []
        for r in rows:
            assistant = r.role == "assistant"
            out.append(
                Message(
                    id=r.id,
                    request_id=r.request_id or r.id,
                    role=r.role,  # type: ignore[arg-type]
                    content=r.content,
                    attachments=tuple(by_message.get(r.id, ())),
                    my_reaction=reactions.get(r.id) if assistant else None,  # type: ignore[arg-type]
                    created_at=format_rfc3339(r.created_at),
                    model=r.model if assistant else None,
                    input_tokens=r.input_tokens if assistant else None,
                    output_tokens=r.output_tokens if assistant else None,
                )
            )
        return out

    async def put_reaction(
        self, ctx: SecurityContext, chat_id: UUID, message_id: UUID, body: ReactionBody
    ) -> ReactionView:
        chat = await self._chat(ctx, chat_id, "set_reaction")
        tenant = ctx.subject_tenant_id
        now = self.clock.now()
        async with self.store.tx.write():
            message = await self.store.messages.get(tenant, chat.id, message_id)
            if message is None:
                raise MessageNotFound("Message not found.")
            if message.role != "assistant":
                raise InvalidReactionTarget("Only assistant messages take reactions.")
            await self.store.reactions.upsert(tenant, chat.id, message_id, ctx.subject_id, body.reaction, now)
        return ReactionView(message_id=message_id, reaction=body.reaction, created_at=format_rfc3339(now))

    async def delete_reaction(self, ctx: SecurityContext, chat_id: UUID, message_id: UUID) -> None:
        chat = await self._chat(ctx, chat_id, "delete_reaction")
        async with self.store.tx.write():
            await self.store.reactions.delete(ctx.subject_tenant_id, chat.id, message_id, ctx.subject_id)

    # -- turns ---------------------------------------------------------------------------------------------

    async def send_message(self, ctx: SecurityContext, chat_id: UUID, body: SendMessageBody) -> StreamStart:
        await self.check_license(ctx)
        content = body.content
        if not content.strip():
            raise _field_error("content", "content must not be blank")
        ids = list(body.attachment_ids or [])
        if len(ids) > MAX_ATTACHMENTS:
            raise _field_error("attachment_ids", f"at most {MAX_ATTACHMENTS} attachments")
        if len(set(ids)) != len(ids):
            raise _field_error("attachment_ids", "attachment ids must be unique")
        request_id = body.request_id or uuid4()
        chat = await self._chat(ctx, chat_id, "send_message")
        for _ in range(3):
            existing = await self.store.turns.by_request(ctx.subject_tenant_id, chat.id, request_id)
            if existing is not None:
                return await self._replay_or_conflict(ctx, chat, existing)
            started = await self.preflight.start(
                TurnRequest(
                    ctx=ctx,
                    chat=chat,
                    request_id=request_id,
                    content=content,
                    attachment_ids=tuple(ids),
                    web_search=bool(body.web_search and body.web_search.enabled),
                )
            )
            if started is not None:
                return started
        raise RuntimeError("preflight kept restarting")

    async def _replay_or_conflict(self, ctx: SecurityContext, chat: ChatRow, turn: TurnRow) -> StreamStart:
        from .errors import RequestIdConflict

        if turn.deleted_at is not None or turn.state != "completed":
            raise RequestIdConflict("This request id belongs to another turn.")
        handle = await replay_handle(self.store, self.runner, ctx.subject_tenant_id, chat, turn)
        return StreamStart(handle=handle, replay=True)

    async def turn_status(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> TurnStatus:
        chat = await self._chat(ctx, chat_id, "read_turn")
        turn = await self.store.turns.by_request(ctx.subject_tenant_id, chat.id, request_id)
        if turn is None or turn.deleted_at is not None:
            raise TurnNotFound("Turn not found.")
        return turn_status_view(
            request_id=turn.request_id,
            state=turn.state,
            updated_at=format_rfc3339(turn.updated_at),
            error_code=turn.error_code,
            assistant_message_id=turn.assistant_message_id,
        )

    async def _mutable_turn(self, ctx: SecurityContext, chat: ChatRow, request_id: UUID) -> TurnRow:
        """C-12 order after the chat: 404 turn → 403 requester → 400 running → 409 not latest."""
        tenant = ctx.subject_tenant_id
        turn = await self.store.turns.by_request(tenant, chat.id, request_id)
        if turn is None or turn.deleted_at is not None:
            raise TurnNotFound("Turn not found.")
        if turn.requester_user_id != ctx.subject_id:
            raise Forbidden("Only the requester may change this turn.")
        if turn.state == "running":
            raise InvalidTurnState("The turn is still running.")
        latest = await self.store.turns.latest(tenant, chat.id)
        if latest is None or latest.id != turn.id:
            raise NotLatestTurn("Only the latest turn can be changed.")
        return turn

    async def retry_turn(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> StreamStart:
        chat = await self._chat(ctx, chat_id, "retry_turn")
        return await self._replace(ctx, chat, request_id, None)

    async def edit_turn(
        self, ctx: SecurityContext, chat_id: UUID, request_id: UUID, body: EditTurnBody
    ) -> StreamStart:
        chat = await self._chat(ctx, chat_id, "edit_turn")
        if not body.content.strip():
            raise _field_error("content", "content must not be blank")
        return await self._replace(ctx, chat, request_id, body.content)

    async def _replace(
        self, ctx: SecurityContext, chat: ChatRow, request_id: UUID, new_content: str | None
    ) -> StreamStart:
        old = await self._mutable_turn(ctx, chat, request_id)
        tenant = ctx.subject_tenant_id
        user_rows = [
            m
            for m in await self.store.messages.by_request(tenant, chat.id, old.request_id)
            if m.role == "user"
        ]
        content = new_content if new_content is not None else (user_rows[0].content if user_rows else "")
        links = await self.store.attachments.links_of(tenant, chat.id, [m.id for m in user_rows])
        kept = tuple(link.attachment.id for link in links if not link.attachment.deleted)
        started = await self.preflight.start(
            TurnRequest(
                ctx=ctx,
                chat=chat,
                request_id=uuid4(),
                content=content,
                attachment_ids=kept,
                web_search=old.web_search_enabled,
                replacing=old,
                mutation="turn_edit" if new_content is not None else "turn_retry",
            )
        )
        if started is None:
            raise NotLatestTurn("The chat changed; try again.")
        return started

    async def delete_turn(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> None:
        """CI-11.1: one transaction, latest-turn check under lock, summary invalidation, audit."""
        chat = await self._chat(ctx, chat_id, "delete_turn")
        turn = await self._mutable_turn(ctx, chat, request_id)
        tenant, now = ctx.subject_tenant_id, self.clock.now()
        async with self.store.tx.write() as txn:
            latest = await self.store.turns.latest(tenant, chat.id, lock=True)
            if latest is None or latest.id != turn.id:
                raise NotLatestTurn("Only the latest turn can be changed.")
            if latest.state == "running":
                raise InvalidTurnState("The turn is still running.")
            if not await self.store.turns.soft_delete(tenant, turn.id, now):
                raise TurnNotFound("Turn not found.")
            deleted = await self.store.messages.soft_delete_turn(tenant, chat.id, turn.request_id, now)
            await self.preflight.invalidate_summary(tenant, chat.id, deleted)
            await self.outbox.enqueue_audit(
                txn,
                AuditEnvelope(
                    type="delete",
                    event=TurnDeleteAuditEvent(
                        event_id=uuid4(),
                        event_type="turn_delete",
                        timestamp=now,
                        tenant_id=tenant,
                        requester_type="user",
                        actor_user_id=ctx.subject_id,
                        chat_id=chat.id,
                        turn_id=turn.id,
                        request_id=turn.request_id,
                    ),
                ),
            )
            await self.store.chats.touch(tenant, chat.id, now)
        self.outbox.flush()

    # -- quota (C-16) --------------------------------------------------------------------------------------

    async def quota_status(self, ctx: SecurityContext) -> QuotaStatus:
        await self._scope(ctx, QUOTA, "read", None)
        policy = await self.policy.current(ctx.subject_tenant_id, ctx.subject_id)
        now = self.clock.now()
        periods = periods_at(now)
        rows = await self.store.quota.read(
            ctx.subject_tenant_id, ctx.subject_id, {"daily": periods.daily, "monthly": periods.monthly}
        )
        return quota_status(
            limits=policy.limits,
            rows=rows,
            now=now,
            warning_threshold_pct=self.config.quota.warning_threshold_pct,
        )
