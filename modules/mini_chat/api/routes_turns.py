"""Sending a message (C-8, C-9, C-10), turn status (C-11) and retry / edit / delete (C-12)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from fabrikit.kernel.http import RateLimit, authenticated

from ..domain.service_api import EditTurnBody, SendMessageBody, TurnStatus
from .deps import Deps, security_of
from .errors import chat_id_of, child_id_of, convert_body
from .problems import problems
from .sse import SSE_MEDIA_TYPE, SseStream

_JSON = ("application/json",)
# C-1.8: a stream holds its in-flight permit for its whole life; the gateway timeout stops at the response head.
STREAM_LIMIT = RateLimit(rps=1000, burst=1024, in_flight=1024)
_SSE_DOC = (
    "200 is an SSE stream (`text/event-stream`): `stream_started ping* (delta | tool)* citations? "
    "(done | error)`. Only `done` means success. After a broken stream ask the turn status: `done` ⇒ show the "
    "stored answer, `running` ⇒ poll, `error`/`cancelled` ⇒ resend with a new `request_id`; never resend the "
    "same `request_id` (C-9.9)."
)


def turn_handlers(deps: Deps) -> list[Any]:
    service = deps.service

    @post(
        "/chats/{chat_id:str}/messages:stream",
        status_code=200,
        media_type=SSE_MEDIA_TYPE,
        opt=authenticated(
            "mini_chat.messages.stream",
            validation_status=400,
            allowed_content_types=_JSON,
            rate_limit=STREAM_LIMIT,
            streaming=True,
        ),
        responses=problems(400, 403, 404, 409, 415, 422, 429, 503),
        summary="Send a message and stream the answer",
        description=_SSE_DOC,
    )
    async def send_message(
        request: Request[Any, Any, Any], chat_id: FromPath[str], data: JSONBody[SendMessageBody]
    ) -> SseStream:
        start = await service.send_message(security_of(request), chat_id_of(chat_id), data)
        return deps.stream(start)

    @get(
        "/chats/{chat_id:str}/turns/{request_id:str}",
        opt=authenticated("mini_chat.turns.get"),
        responses=problems(403, 404),
        summary="Get a turn's status",
    )
    async def turn_status(
        request: Request[Any, Any, Any], chat_id: FromPath[str], request_id: FromPath[str]
    ) -> TurnStatus:
        return await service.turn_status(security_of(request), chat_id_of(chat_id), child_id_of(request_id))

    @post(
        "/chats/{chat_id:str}/turns/{request_id:str}/retry",
        status_code=200,
        media_type=SSE_MEDIA_TYPE,
        opt=authenticated("mini_chat.turns.retry", rate_limit=STREAM_LIMIT, streaming=True),
        responses=problems(400, 403, 404, 409, 415, 422, 429, 503),
        summary="Regenerate the latest turn",
        description=_SSE_DOC,
    )
    async def retry_turn(
        request: Request[Any, Any, Any], chat_id: FromPath[str], request_id: FromPath[str]
    ) -> SseStream:
        start = await service.retry_turn(security_of(request), chat_id_of(chat_id), child_id_of(request_id))
        return deps.stream(start)

    @patch(
        "/chats/{chat_id:str}/turns/{request_id:str}",
        status_code=200,
        media_type=SSE_MEDIA_TYPE,
        opt=authenticated(
            "mini_chat.turns.edit",
            validation_status=400,
            allowed_content_types=_JSON,
            rate_limit=STREAM_LIMIT,
            streaming=True,
        ),
        responses=problems(400, 403, 404, 409, 415, 422, 429, 503),
        summary="Edit the latest turn's message and regenerate",
        description=_SSE_DOC + " Body: `{content}` (non-blank).",
    )
    async def edit_turn(
        request: Request[Any, Any, Any],
        chat_id: FromPath[str],
        request_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> SseStream:
        ctx = security_of(request)
        chat = chat_id_of(chat_id)
        try:
            body = convert_body(data, EditTurnBody)
        except Exception:
            await service.ensure_chat(
                ctx, chat, "edit_turn"
            )  # C-12 order: chat_not_found before validation_error
            raise
        start = await service.edit_turn(ctx, chat, child_id_of(request_id), body)
        return deps.stream(start)

    @delete(
        "/chats/{chat_id:str}/turns/{request_id:str}",
        status_code=204,
        opt=authenticated("mini_chat.turns.delete"),
        responses=problems(400, 403, 404, 409),
        summary="Delete the latest turn",
    )
    async def delete_turn(
        request: Request[Any, Any, Any], chat_id: FromPath[str], request_id: FromPath[str]
    ) -> None:
        await service.delete_turn(security_of(request), chat_id_of(chat_id), child_id_of(request_id))

    return [send_message, turn_status, retry_turn, edit_turn, delete_turn]
