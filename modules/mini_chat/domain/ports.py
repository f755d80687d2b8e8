"""Ports the engine talks through (CI-1.4): storage, provider, outbox, clock, authorization, policy plugin.

``infra/`` implements them; tests may replace the provider, clock and policy plugin with fakes. Repositories
take the caller's tenant (and, for chats, the PEP scope plus owner) in every query (CI-17.1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

import msgspec

from fabrikit.kernel.odata import Page, QueryPlan
from fabrikit.kernel.security import AccessScope, SecurityContext

from ..sdk import (
    MiniChatModelPolicyPluginV1,
    ModelCatalogEntry,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
    UsageEvent,
)
from .provider_events import FileRef, ProviderEvent
from .provider_usage import ProviderUsage
from .quota_rows import QuotaRowValues, RowKey
from .settlement import RowSettlement
from .turns import TurnState

# -- records ------------------------------------------------------------------------------------------------


class ChatRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: UUID
    user_id: UUID
    model: str
    title: str | None
    is_temporary: bool
    created_at: datetime
    updated_at: datetime
    message_count: int = 0


class TurnRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: UUID
    chat_id: UUID
    request_id: UUID
    requester_user_id: UUID | None
    state: TurnState
    assistant_message_id: UUID | None
    error_code: str | None
    completion_reason: str | None
    reserve_tokens: int
    max_output_tokens_applied: int
    reserved_credits_micro: int
    policy_version_applied: int
    effective_model: str
    minimal_generation_floor_applied: int
    effective_tier: str
    input_multiplier_micro: int
    output_multiplier_micro: int
    quota_period_daily: date
    quota_period_monthly: date
    quota_decision: str
    downgrade_reason: str | None
    settlement_method: str | None
    committed_credits_micro: int | None
    web_search_enabled: bool
    image_count: int
    replaced_by_request_id: UUID | None
    started_at: datetime
    last_progress_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    deleted_at: datetime | None


class NewTurn(msgspec.Struct, frozen=True, kw_only=True):
    """The preflight snapshot written with the ``running`` row (write-once)."""

    id: UUID
    tenant_id: UUID
    chat_id: UUID
    request_id: UUID
    requester_user_id: UUID
    provider_name: str
    reserve_tokens: int
    max_output_tokens_applied: int
    reserved_credits_micro: int
    policy_version_applied: int
    effective_model: str
    minimal_generation_floor_applied: int
    effective_tier: str
    input_multiplier_micro: int
    output_multiplier_micro: int
    quota_period_daily: date
    quota_period_monthly: date
    quota_decision: str
    downgrade_reason: str | None
    web_search_enabled: bool
    image_count: int
    started_at: datetime


class TurnTerminal(msgspec.Struct, frozen=True, kw_only=True):
    state: TurnState
    error_code: str | None
    error_detail: str | None
    completion_reason: str | None
    provider_response_id: str | None
    completed_at: datetime


class TurnOutcome(msgspec.Struct, frozen=True, kw_only=True):
    settlement_method: str
    committed_credits_micro: int
    overshoot_capped: bool
    web_search_completed_count: int
    code_interpreter_completed_count: int
    file_search_completed_count: int


class MessageRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    chat_id: UUID
    request_id: UUID | None
    role: Literal["user", "assistant", "system"]
    content: str
    model: str | None
    input_tokens: int
    output_tokens: int
    created_at: datetime


class NewMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: UUID
    chat_id: UUID
    request_id: UUID
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    token_estimate: int = 0
    model: str | None = None
    usage: ProviderUsage | None = None
    provider_response_id: str | None = None
    features_used: tuple[str, ...] = ()


class AttachmentRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    chat_id: UUID
    uploaded_by_user_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    status: str
    attachment_kind: str
    for_file_search: bool
    for_code_interpreter: bool
    provider_file_id: str | None
    img_thumbnail: bytes | None = None
    img_thumbnail_width: int | None = None
    img_thumbnail_height: int | None = None
    deleted: bool = False


class AttachmentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The whole ``attachments`` row: the REST view, uploads and cleanup (C-13, CI-12)."""

    id: UUID
    tenant_id: UUID
    chat_id: UUID
    uploaded_by_user_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    status: str
    error_code: str | None
    attachment_kind: str
    for_file_search: bool
    for_code_interpreter: bool
    provider_file_id: str | None
    storage_backend: str  # the provider id its file lives with
    img_thumbnail: bytes | None
    img_thumbnail_width: int | None
    img_thumbnail_height: int | None
    cleanup_status: str | None
    cleanup_attempts: int
    created_at: datetime
    deleted_at: datetime | None


class NewAttachment(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: UUID
    chat_id: UUID
    uploaded_by_user_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    attachment_kind: str
    for_file_search: bool
    for_code_interpreter: bool
    storage_backend: str
    created_at: datetime


class LinkedAttachment(msgspec.Struct, frozen=True, kw_only=True):
    message_id: UUID
    attachment: AttachmentRow


class SummaryRow(msgspec.Struct, frozen=True, kw_only=True):
    summary_text: str
    frontier_created_at: datetime
    frontier_message_id: UUID
    token_estimate: int


# -- storage ports ------------------------------------------------------------------------------------------


class UniqueViolation(Exception):
    """A unique index rejected a write; ``index`` names it (``ux_turns_one_running``, ``turn_request``, …)."""

    def __init__(self, index: str) -> None:
        super().__init__(index)
        self.index = index


class Transactions(Protocol):
    def write(self) -> AbstractAsyncContextManager[Any]:
        """A write transaction (SQLite IMMEDIATE); nested calls join; yields the txn handle for the outbox."""
        ...


class ChatsRepo(Protocol):
    async def insert(self, row: ChatRow) -> None: ...
    async def get(
        self, scope: AccessScope, tenant_id: UUID, user_id: UUID, chat_id: UUID, *, lock: bool = False
    ) -> ChatRow | None: ...
    async def page(
        self, scope: AccessScope, tenant_id: UUID, user_id: UUID, plan: QueryPlan
    ) -> Page[ChatRow]: ...
    async def update_title(self, tenant_id: UUID, chat_id: UUID, title: str, now: datetime) -> None: ...
    async def soft_delete(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> bool: ...
    async def touch(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> None: ...
    async def is_live(self, tenant_id: UUID, chat_id: UUID) -> bool: ...
    async def lock(self, tenant_id: UUID, chat_id: UUID) -> bool:
        """Locks a live chat's row for the transaction (PG ``FOR UPDATE``); False when it is gone."""
        ...

    async def owner(self, tenant_id: UUID, chat_id: UUID) -> UUID | None:
        """The user of a live chat (system tasks act on the owner's policy); None when deleted or unknown."""
        ...


class TurnsRepo(Protocol):
    async def by_request(self, tenant_id: UUID, chat_id: UUID, request_id: UUID) -> TurnRow | None:
        """Includes soft-deleted rows (C-10.1)."""
        ...

    async def get(self, tenant_id: UUID, turn_id: UUID) -> TurnRow | None: ...
    async def running(self, tenant_id: UUID, chat_id: UUID) -> TurnRow | None: ...
    async def latest(self, tenant_id: UUID, chat_id: UUID, *, lock: bool = False) -> TurnRow | None: ...
    async def insert(self, turn: NewTurn) -> None: ...
    async def cas_terminal(
        self, tenant_id: UUID, turn_id: UUID, terminal: TurnTerminal, *, stale_cutoff: datetime | None = None
    ) -> TurnRow | None:
        """``WHERE state = 'running'`` (and ``last_progress_at <= cutoff``); None = lost."""
        ...

    async def write_outcome(
        self, tenant_id: UUID, turn_id: UUID, outcome: TurnOutcome, assistant_message_id: UUID | None
    ) -> None: ...
    async def heartbeat(self, tenant_id: UUID, turn_id: UUID, now: datetime) -> bool: ...
    async def soft_delete(
        self, tenant_id: UUID, turn_id: UUID, now: datetime, replaced_by: UUID | None = None
    ) -> bool: ...
    async def running_in_chat_ids(self, tenant_id: UUID, chat_id: UUID) -> list[UUID]: ...


class MessagesRepo(Protocol):
    async def insert(self, message: NewMessage) -> None: ...
    async def by_request(self, tenant_id: UUID, chat_id: UUID, request_id: UUID) -> list[MessageRow]: ...
    async def get(self, tenant_id: UUID, chat_id: UUID, message_id: UUID) -> MessageRow | None: ...
    async def boundary(self, tenant_id: UUID, chat_id: UUID) -> MessageRow | None: ...
    async def prior_context_tokens(self, tenant_id: UUID, chat_id: UUID) -> int: ...
    async def recent(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        *,
        after: tuple[datetime, UUID] | None,
        upto: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[MessageRow]: ...
    async def newest_before(
        self, tenant_id: UUID, chat_id: UUID, before: tuple[datetime, UUID]
    ) -> MessageRow | None: ...
    async def soft_delete_turn(
        self, tenant_id: UUID, chat_id: UUID, request_id: UUID, now: datetime
    ) -> list[MessageRow]: ...
    async def page(self, tenant_id: UUID, chat_id: UUID, plan: QueryPlan) -> Page[MessageRow]: ...
    async def is_live(self, tenant_id: UUID, chat_id: UUID, message_id: UUID) -> bool: ...
    async def clear_compressed(self, tenant_id: UUID, chat_id: UUID) -> None: ...
    async def between(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        *,
        after: tuple[datetime, UUID] | None,
        upto: tuple[datetime, UUID],
    ) -> list[MessageRow]:
        """Live user and assistant messages in ``(after, upto]``, oldest first."""
        ...

    async def mark_compressed(self, tenant_id: UUID, chat_id: UUID, upto: tuple[datetime, UUID]) -> None:
        """``is_compressed`` on every live message up to ``upto`` (informational, CI-9.4)."""
        ...


class AttachmentsRepo(Protocol):
    async def by_ids(self, tenant_id: UUID, chat_id: UUID, ids: Sequence[UUID]) -> list[AttachmentRow]:
        """Live rows of the chat among ``ids``."""
        ...

    async def ready_of_chat(self, tenant_id: UUID, chat_id: UUID) -> list[AttachmentRow]: ...
    async def vector_store_id(self, tenant_id: UUID, chat_id: UUID) -> str | None: ...
    async def link(
        self, tenant_id: UUID, chat_id: UUID, message_id: UUID, attachment_ids: Sequence[UUID], now: datetime
    ) -> None: ...
    async def links_of(
        self, tenant_id: UUID, chat_id: UUID, message_ids: Sequence[UUID]
    ) -> list[LinkedAttachment]:
        """Links in link order, attachments including soft-deleted ones (``deleted`` flag)."""
        ...

    async def mark_chat_cleanup(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> int: ...

    # -- uploads and cleanup (C-13, CI-12) --
    async def insert(self, attachment: NewAttachment) -> None:
        """A ``pending`` row."""
        ...

    async def record(self, tenant_id: UUID, chat_id: UUID, attachment_id: UUID) -> AttachmentRecord | None:
        """The row of this chat, soft-deleted ones included."""
        ...

    async def usage(self, tenant_id: UUID, chat_id: UUID) -> tuple[int, int]:
        """(live documents, bytes of all live attachments) of the chat (C-13.6)."""
        ...

    async def set_uploaded(
        self, tenant_id: UUID, attachment_id: UUID, provider_file_id: str, size_bytes: int, now: datetime
    ) -> None: ...
    async def set_ready(
        self, tenant_id: UUID, attachment_id: UUID, thumbnail: tuple[bytes, int, int] | None, now: datetime
    ) -> None: ...
    async def set_failed(
        self, tenant_id: UUID, attachment_id: UUID, error_code: str, now: datetime
    ) -> None: ...
    async def soft_delete(self, tenant_id: UUID, chat_id: UUID, attachment_id: UUID, now: datetime) -> bool:
        """CI-12.3: deleted and marked for cleanup unless already deleted or linked to a live message."""
        ...

    async def cleanup_done(self, tenant_id: UUID, attachment_id: UUID, now: datetime) -> None: ...
    async def cleanup_failed(
        self, tenant_id: UUID, attachment_id: UUID, error: str, max_attempts: int, now: datetime
    ) -> str:
        """One more failed attempt; returns the new ``cleanup_status`` (``failed`` at ``max_attempts``)."""
        ...

    # -- the chat's vector store (CI-12.2) --
    async def claim_vector_store(self, tenant_id: UUID, chat_id: UUID, provider: str, now: datetime) -> bool:
        """Inserts the chat's row with no store id; False when it already exists (someone else creates it)."""
        ...

    async def vector_store_state(self, tenant_id: UUID, chat_id: UUID) -> tuple[bool, str | None]:
        """(row exists, store id)."""
        ...

    async def set_vector_store(self, tenant_id: UUID, chat_id: UUID, vector_store_id: str) -> bool:
        """Sets the id if still unset; False when another writer set one."""
        ...

    async def drop_vector_store_claim(self, tenant_id: UUID, chat_id: UUID) -> None: ...
    async def vector_store_of(self, tenant_id: UUID, chat_id: UUID) -> tuple[str | None, str] | None:
        """The chat's (store id, provider), or None without a row."""
        ...

    async def forget_vector_store(self, tenant_id: UUID, chat_id: UUID) -> None:
        """Hard-deletes the chat's vector-store row (after the provider store is gone, CI-12.5)."""
        ...

    async def pending_cleanup_of_chat(self, tenant_id: UUID, chat_id: UUID) -> list[AttachmentRecord]:
        """The chat's attachments whose provider file still has to go (deleted or not)."""
        ...

    async def any_cleanup_failed(self, tenant_id: UUID, chat_id: UUID) -> bool: ...
    async def stale_cleanups(self, before: datetime, limit: int) -> list[tuple[AttachmentRecord, bool]]:
        """Pending cleanups not touched since ``before`` (CI-14.3), with whether their chat is deleted."""
        ...

    async def touch_cleanup(self, tenant_id: UUID, attachment_id: UUID, now: datetime) -> None: ...
    async def count_vector_store_file(self, tenant_id: UUID, chat_id: UUID) -> None: ...


class ReactionsRepo(Protocol):
    async def upsert(
        self, tenant_id: UUID, chat_id: UUID, message_id: UUID, user_id: UUID, reaction: str, now: datetime
    ) -> None: ...
    async def delete(self, tenant_id: UUID, chat_id: UUID, message_id: UUID, user_id: UUID) -> None: ...
    async def of_messages(
        self, tenant_id: UUID, user_id: UUID, message_ids: Sequence[UUID]
    ) -> dict[UUID, str]: ...


class QuotaRepo(Protocol):
    async def ensure_and_lock(
        self, tenant_id: UUID, user_id: UUID, keys: Sequence[RowKey], starts: dict[str, date], now: datetime
    ) -> dict[RowKey, QuotaRowValues]:
        """Inserts missing rows, then locks them in the given order (PG ``FOR UPDATE``)."""
        ...

    async def read(
        self, tenant_id: UUID, user_id: UUID, starts: dict[str, date]
    ) -> dict[RowKey, QuotaRowValues]: ...
    async def add_reserved(
        self,
        tenant_id: UUID,
        user_id: UUID,
        keys: Sequence[RowKey],
        starts: dict[str, date],
        amount: int,
        now: datetime,
    ) -> None: ...
    async def settle(
        self,
        tenant_id: UUID,
        user_id: UUID,
        update: RowSettlement,
        now: datetime,
        locked: QuotaRowValues | None = None,
    ) -> bool:
        """Applies one row settlement; returns whether ``reserved`` had to be clamped at 0. ``locked``: the row's
        values as ``ensure_and_lock`` returned them in this transaction (skips ensuring and re-reading it)."""
        ...


class SummariesRepo(Protocol):
    async def get(self, tenant_id: UUID, chat_id: UUID) -> SummaryRow | None: ...
    async def delete(self, tenant_id: UUID, chat_id: UUID) -> None: ...
    async def store(
        self,
        tenant_id: UUID,
        chat_id: UUID,
        base: tuple[datetime, UUID] | None,
        summary: SummaryRow,
        now: datetime,
    ) -> bool:
        """Writes ``summary`` if the stored frontier still is ``base`` (no row when None): insert or compare-and-set
        update. False when another writer got there first (CI-9.3 step 7)."""
        ...


class Store(Protocol):
    """Read-only members: a protocol attribute would be invariant, so a store holding concrete repositories
    would not conform."""

    @property
    def tx(self) -> Transactions: ...
    @property
    def chats(self) -> ChatsRepo: ...
    @property
    def turns(self) -> TurnsRepo: ...
    @property
    def messages(self) -> MessagesRepo: ...
    @property
    def attachments(self) -> AttachmentsRepo: ...
    @property
    def reactions(self) -> ReactionsRepo: ...
    @property
    def quota(self) -> QuotaRepo: ...
    @property
    def summaries(self) -> SummariesRepo: ...


# -- outbox -------------------------------------------------------------------------------------------------


class ChatCleanupPayload(msgspec.Struct, frozen=True, kw_only=True):
    reason: Literal["chat_soft_delete"]
    tenant_id: UUID
    chat_id: UUID
    system_request_id: UUID
    chat_deleted_at: datetime


class AttachmentCleanupPayload(msgspec.Struct, frozen=True, kw_only=True):
    """``mini-chat.attachment_cleanup`` (CI-10); the provider ids are read from the row by the handler."""

    event_type: Literal["attachment_deleted"]
    tenant_id: UUID
    chat_id: UUID
    attachment_id: UUID
    attachment_kind: str
    storage_backend: str
    deleted_at: datetime


class ThreadSummaryPayload(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    tenant_id: UUID
    chat_id: UUID
    system_request_id: UUID
    system_task_type: Literal["thread_summary_update"]
    target_created_at: datetime
    target_message_id: UUID
    base_created_at: datetime | None = None
    base_message_id: UUID | None = None


class AuditEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """``mini-chat.audit`` payload: ``{type: turn | mutation | delete, event}`` (CI-10)."""

    type: Literal["turn", "mutation", "delete"]
    event: TurnAuditEvent | TurnMutationAuditEvent | TurnDeleteAuditEvent


class OutboxPort(Protocol):
    """Enqueue only inside the business transaction (``txn`` from ``Transactions.write``); ``flush`` after commit."""

    async def enqueue_usage(self, txn: Any, event: UsageEvent) -> None: ...
    async def enqueue_audit(self, txn: Any, envelope: AuditEnvelope) -> None: ...
    async def enqueue_chat_cleanup(self, txn: Any, payload: ChatCleanupPayload) -> None: ...
    async def enqueue_thread_summary(self, txn: Any, payload: ThreadSummaryPayload) -> None: ...
    async def enqueue_attachment_cleanup(self, txn: Any, payload: AttachmentCleanupPayload) -> None: ...
    def flush(self) -> None: ...


# -- provider -----------------------------------------------------------------------------------------------


class ProviderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One streamed LLM call. ``body`` is the complete upstream JSON (``provider_requests.build_request_body``);
    the adapter adds nothing but transport. ``file_map``/``files_searchable`` feed its ``ResponsesNormalizer``."""

    tenant_id: UUID
    user_id: UUID
    chat_id: UUID
    provider_id: str
    provider_kind: str
    provider_model_id: str
    body: dict[str, Any]
    file_map: dict[str, FileRef] = {}
    files_searchable: int = 0


class DispatchState:
    """Written by the adapter: ``dispatched`` immediately before the request goes to oagw; ``nothing_generated``
    when the answer was a non-SSE HTTP error or oagw raised before forwarding (CI-6 → ``released``)."""

    def __init__(self) -> None:
        self.dispatched = False
        self.nothing_generated = False


class CompletionRequest(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    chat_id: UUID
    provider_id: str
    provider_kind: str
    provider_model_id: str
    body: dict[str, Any]
    timeout_seconds: float


class CompletionResult(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    usage: ProviderUsage | None


class ProviderCallError(Exception):
    """``complete()`` failed; ``code`` is a CI-13.4 provider error code, ``message`` sanitized."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderFiles(Protocol):
    """Files and vector stores of a provider (CI-12), through oagw. Failures raise ``ProviderCallError``; deleting
    or removing something the provider no longer has succeeds (CI-12.4: 404 counts as success)."""

    async def upload_file(
        self, tenant_id: UUID, provider_id: str, *, filename: str, content_type: str, data: bytes
    ) -> str:
        """The provider's file id (purpose ``assistants``)."""
        ...

    async def create_vector_store(self, tenant_id: UUID, provider_id: str, *, name: str) -> str: ...
    async def add_vector_store_file(
        self,
        tenant_id: UUID,
        provider_id: str,
        vector_store_id: str,
        file_id: str,
        attributes: dict[str, str],
    ) -> None:
        """Returns once the file is indexed; ``ProviderCallError("indexing_failed")`` when indexing failed."""
        ...

    async def remove_vector_store_file(
        self, tenant_id: UUID, provider_id: str, vector_store_id: str, file_id: str
    ) -> None: ...
    async def delete_file(self, tenant_id: UUID, provider_id: str, file_id: str) -> None: ...
    async def delete_vector_store(self, tenant_id: UUID, provider_id: str, vector_store_id: str) -> None: ...


class ProviderPort(Protocol):
    def stream(self, request: ProviderRequest, state: DispatchState) -> AsyncIterator[ProviderEvent]:
        """Normalized events ending with exactly one ``Completed``/``Incomplete``/``Failed``. Errors become
        ``Failed`` events, never exceptions. Cancelling the consumer (or ``aclose``) closes the upstream."""
        ...

    async def complete(self, request: CompletionRequest) -> CompletionResult: ...


# -- the rest -----------------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC wall clock (microseconds)."""
        ...

    def monotonic(self) -> float: ...


class Authorizer(Protocol):
    """``PolicyEnforcer.access_scope`` (authz-resolver PEP); raises ``AccessDenied``/``EvaluationFailed``."""

    async def access_scope(
        self,
        ctx: SecurityContext,
        resource: Any,
        action: str,
        *,
        resource_id: UUID | None = None,
        request: Any | None = None,
    ) -> AccessScope: ...


class PolicyPluginSource(Protocol):
    """``PluginSelector`` of the model-policy spec: lazy, cached, ``invalidate()`` after a failure."""

    async def get(self) -> MiniChatModelPolicyPluginV1: ...
    def invalidate(self) -> None: ...


__all__ = [
    "AttachmentCleanupPayload",
    "AttachmentRecord",
    "AttachmentRow",
    "AttachmentsRepo",
    "AuditEnvelope",
    "Authorizer",
    "ChatCleanupPayload",
    "ChatRow",
    "ChatsRepo",
    "Clock",
    "CompletionRequest",
    "CompletionResult",
    "DispatchState",
    "LinkedAttachment",
    "MessageRow",
    "MessagesRepo",
    "ModelCatalogEntry",
    "NewAttachment",
    "NewMessage",
    "NewTurn",
    "OutboxPort",
    "PolicyPluginSource",
    "ProviderCallError",
    "ProviderFiles",
    "ProviderPort",
    "ProviderRequest",
    "QuotaRepo",
    "ReactionsRepo",
    "Store",
    "SummariesRepo",
    "SummaryRow",
    "ThreadSummaryPayload",
    "Transactions",
    "TurnOutcome",
    "TurnRow",
    "TurnTerminal",
    "TurnsRepo",
    "UniqueViolation",
]
