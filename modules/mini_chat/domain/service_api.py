"""The service interface the REST layer calls (C-6 … C-16), its DTOs and the streaming ``TurnHandle`` (CI-4.1).

Stable contract between the engine (``domain/service.py``) and ``api/``. Every method takes the caller's
``SecurityContext`` first and raises the C-3 ``DomainError``s of ``domain/errors.py`` (plus the kernel OData
errors for list parameters and the PEP's 403s). DTO field names are exactly those of C-5 / C-16.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar
from uuid import UUID

import msgspec

from fabrikit.kernel.odata import PageInfo, apply_select
from fabrikit.kernel.security import SecurityContext

from .attachments import AttachmentDetail
from .models import PublicModel
from .quota_status import QuotaStatus
from .sse import Citations, Delta, Done, ErrorEvent, Ping, StreamStarted, ToolEvent
from .turns import CancelTrigger, TurnStatusView
from .uploads import UploadSource

T = TypeVar("T")

# -- request bodies (decoded by the REST layer; unknown fields ignored, C-1.6) ------------------------------


class ListParams(msgspec.Struct, frozen=True, kw_only=True):
    """Raw list query parameters (C-4); the service plans and checks them (kernel OData errors)."""

    filter: str | None = None
    orderby: str | None = None
    cursor: str | None = None
    limit: str | int | None = None
    select: str | None = None


class CreateChatBody(msgspec.Struct, frozen=True, kw_only=True):
    title: str | None = None
    model: str | None = None


class UpdateChatBody(msgspec.Struct, frozen=True, kw_only=True):
    title: str


class WebSearchOption(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool = False


class SendMessageBody(msgspec.Struct, frozen=True, kw_only=True):
    """C-8 fields; rule checks (non-blank, ≤ 20 unique attachment ids) happen in the service → 400."""

    content: str
    request_id: UUID | None = None
    attachment_ids: list[UUID] | None = None
    web_search: WebSearchOption | None = None


class EditTurnBody(msgspec.Struct, frozen=True, kw_only=True):
    content: str


class ReactionBody(msgspec.Struct, frozen=True, kw_only=True):
    reaction: Literal["like", "dislike"]


# -- response DTOs (C-5, C-14, C-15, C-16) -----------------------------------------------------------------


class ChatDetail(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    model: str
    title: str | None
    is_temporary: bool
    message_count: int
    created_at: str  # RFC 3339, Z, microseconds (C-1.4)
    updated_at: str


class Thumbnail(msgspec.Struct, frozen=True, kw_only=True):
    content_type: str
    width: int
    height: int
    data_base64: str


class MessageAttachment(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    attachment_id: UUID
    kind: str
    filename: str
    status: str
    img_thumbnail: Thumbnail | None = None


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``my_reaction`` is always written (null allowed); ``model``/tokens only on assistant rows."""

    id: UUID
    request_id: UUID
    role: Literal["user", "assistant"]
    content: str
    attachments: tuple[MessageAttachment, ...]
    my_reaction: Literal["like", "dislike"] | None
    created_at: str
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class ReactionView(msgspec.Struct, frozen=True, kw_only=True):
    message_id: UUID
    reaction: Literal["like", "dislike"]
    created_at: str


class ModelList(msgspec.Struct, frozen=True):
    items: tuple[PublicModel, ...]


Model = PublicModel
TurnStatus = TurnStatusView


class ListResult(msgspec.Struct, Generic[T], kw_only=True):
    """One page (C-4.1) plus the ``$select`` names to project (C-4.6); ``body()`` is the JSON-ready answer."""

    items: list[T]
    page_info: PageInfo
    select: tuple[str, ...] | None = None

    def body(self) -> dict[str, Any]:
        items = [msgspec.to_builtins(item) for item in self.items]
        if self.select is not None:
            items = [apply_select(item, self.select) for item in items]
        return {"items": items, "page_info": msgspec.to_builtins(self.page_info)}


# -- streaming -----------------------------------------------------------------------------------------------


class EndOfStream(msgspec.Struct, frozen=True):
    """Sentinel: the producer is done. Without a terminal before it the relay writes ``stream_interrupted``."""


END_OF_STREAM = EndOfStream()

SsePayload = StreamStarted | Ping | Delta | ToolEvent | Citations | Done | ErrorEvent
StreamItem = StreamStarted | Delta | ToolEvent | Citations | Done | ErrorEvent | EndOfStream


class TurnHandle:
    """The channel between one turn's producer and its SSE relay (CI-4.1).

    The relay only reads: ``await handle.get(timeout)`` (``None`` on timeout → ping/keep-alive), formats, and
    in its ``finally`` calls ``handle.cancel("client_disconnect")`` if it wrote no terminal — a plain sync call.
    """

    def __init__(self, *, chat_id: UUID, request_id: UUID, turn_id: UUID | None, capacity: int) -> None:
        self.chat_id = chat_id
        self.request_id = request_id
        self.turn_id = turn_id  # None for a replay (no producer)
        self.queue: asyncio.Queue[StreamItem] = asyncio.Queue(maxsize=capacity)
        self.cancel_event = asyncio.Event()
        self.trigger: CancelTrigger | None = None
        self.relay_attached = False
        self.cancel_requested_at: float | None = None
        # Set when the producer ended but its end marker did not fit in a full queue (a stalled reader).
        self.ended = False

    def attach(self) -> None:
        """The relay started reading (the producer sends terminals only to an attached relay)."""
        self.relay_attached = True

    def cancel(self, trigger: CancelTrigger) -> None:
        """Idempotent, synchronous: the first trigger wins. Safe from a cancelled scope (no await)."""
        if self.cancel_event.is_set():
            return
        self.trigger = trigger
        try:
            self.cancel_requested_at = asyncio.get_running_loop().time()
        except RuntimeError:
            self.cancel_requested_at = None
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def end(self) -> None:
        """The producer is done: queue the end marker, or flag it when the queue is full (C-9.5)."""
        try:
            self.queue.put_nowait(END_OF_STREAM)
        except asyncio.QueueFull:
            self.ended = True

    async def get(self, timeout: float | None = None) -> StreamItem | None:
        """The next item, or ``None`` when ``timeout`` seconds pass without one."""
        if self.ended and self.queue.empty():
            return END_OF_STREAM
        if timeout is None:
            return await self.queue.get()
        try:
            # ``asyncio.timeout`` rather than ``wait_for``: no extra task, so an item reaches the relay one loop
            # turn after it is put instead of three.
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


@dataclass(frozen=True, slots=True)
class StreamStart:
    """What ``send_message``/``retry_turn``/``edit_turn`` return once the stream may open (200 SSE).

    ``replay``: the handle is pre-filled from stored data (C-10.2) and has no producer."""

    handle: TurnHandle
    replay: bool = False


# -- the service -------------------------------------------------------------------------------------------


class MiniChatService(Protocol):
    """What the REST layer calls. Call ``check_license`` first on every route (C-2.2, C-8 #1) — the methods
    re-check it (cached) so the order license → body → chat holds even if the REST decodes the body first."""

    async def check_license(self, ctx: SecurityContext) -> None: ...

    # models (C-15)
    async def list_models(self, ctx: SecurityContext) -> ModelList: ...

    async def get_model(self, ctx: SecurityContext, model_id: str) -> Model: ...

    # chats (C-6)
    async def create_chat(self, ctx: SecurityContext, body: CreateChatBody) -> ChatDetail: ...

    async def list_chats(self, ctx: SecurityContext, query: ListParams) -> ListResult[ChatDetail]: ...

    async def get_chat(self, ctx: SecurityContext, chat_id: UUID) -> ChatDetail: ...

    async def ensure_chat(self, ctx: SecurityContext, chat_id: UUID, action: str) -> None:
        """The scoped chat lookup of an operation (PEP ``action``), for checks that precede body validation."""
        ...

    async def update_chat(self, ctx: SecurityContext, chat_id: UUID, body: UpdateChatBody) -> ChatDetail: ...

    async def delete_chat(self, ctx: SecurityContext, chat_id: UUID) -> None: ...

    # attachments (C-13)
    async def upload_attachment(
        self, ctx: SecurityContext, chat_id: UUID, source: UploadSource
    ) -> AttachmentDetail: ...

    async def get_attachment(
        self, ctx: SecurityContext, chat_id: UUID, attachment_id: UUID
    ) -> AttachmentDetail: ...

    async def delete_attachment(self, ctx: SecurityContext, chat_id: UUID, attachment_id: UUID) -> None: ...

    # messages (C-7) and reactions (C-14)
    async def list_messages(
        self, ctx: SecurityContext, chat_id: UUID, query: ListParams
    ) -> ListResult[Message]: ...

    async def put_reaction(
        self, ctx: SecurityContext, chat_id: UUID, message_id: UUID, body: ReactionBody
    ) -> ReactionView: ...

    async def delete_reaction(self, ctx: SecurityContext, chat_id: UUID, message_id: UUID) -> None: ...

    # turns (C-8, C-10, C-11, C-12)
    async def send_message(
        self, ctx: SecurityContext, chat_id: UUID, body: SendMessageBody
    ) -> StreamStart: ...

    async def turn_status(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> TurnStatus: ...

    async def retry_turn(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> StreamStart: ...

    async def edit_turn(
        self, ctx: SecurityContext, chat_id: UUID, request_id: UUID, body: EditTurnBody
    ) -> StreamStart: ...

    async def delete_turn(self, ctx: SecurityContext, chat_id: UUID, request_id: UUID) -> None: ...

    # quota (C-16)
    async def quota_status(self, ctx: SecurityContext) -> QuotaStatus: ...


__all__ = [
    "END_OF_STREAM",
    "ChatDetail",
    "CreateChatBody",
    "EditTurnBody",
    "EndOfStream",
    "ListParams",
    "ListResult",
    "Message",
    "MessageAttachment",
    "MiniChatService",
    "Model",
    "ModelList",
    "QuotaStatus",
    "ReactionBody",
    "ReactionView",
    "SendMessageBody",
    "SsePayload",
    "StreamItem",
    "StreamStart",
    "Thumbnail",
    "TurnHandle",
    "TurnStatus",
    "UpdateChatBody",
    "WebSearchOption",
]
