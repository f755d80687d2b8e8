"""Attachments (C-13): upload (multipart, parsed as it arrives), read and delete."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from fabrikit.kernel.http import RateLimit, authenticated

from ..config import RagConfig
from ..domain.attachments import CONTENT_LENGTH_SLACK, KIB, AttachmentDetail
from .deps import Deps, security_of
from .errors import chat_id_of, child_id_of
from .problems import problems
from .uploads import MultipartUpload


def _declared_length(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


def route_body_limit(rag: RagConfig) -> int:
    """The gateway's limit for an upload request (its 413 ``payload_too_large``): the largest file any kind may
    be, plus the multipart framing allowance; the exact per-kind and per-model caps come after (C-13.3)."""
    return max(rag.uploaded_file_max_size_kb, rag.uploaded_image_max_size_kb) * KIB + CONTENT_LENGTH_SLACK


def attachment_handlers(deps: Deps, rag: RagConfig) -> list[Any]:
    service = deps.service

    @post(
        "/chats/{chat_id:str}/attachments",
        status_code=201,
        opt=authenticated(
            "mini_chat.attachments.upload",
            body_limit_bytes=route_body_limit(rag),
            # Uploads hold their permit while the provider indexes; the service caps them per process (C-13.4).
            rate_limit=RateLimit(rps=50, burst=100, in_flight=max(rag.max_concurrent_uploads * 2, 16)),
        ),
        responses=problems(400, 403, 404, 413, 415, 422, 503),
        summary="Upload an attachment",
    )
    async def upload_attachment(
        request: Request[Any, Any, Any], chat_id: FromPath[str]
    ) -> Response[AttachmentDetail]:
        ctx = security_of(request)
        # Parsed lazily: the service looks the chat up (404) before the body is judged (400), C-13's order.
        source = MultipartUpload(
            request.headers.get("content-type"), _declared_length(request), request.stream()
        )
        detail = await service.upload_attachment(ctx, chat_id_of(chat_id), source)
        location = f"{request.url.path.rstrip('/')}/{detail.id}"
        return Response(detail, status_code=201, headers={"Location": location})

    @get(
        "/chats/{chat_id:str}/attachments/{attachment_id:str}",
        opt=authenticated("mini_chat.attachments.get"),
        responses=problems(403, 404),
        summary="Get an attachment",
    )
    async def get_attachment(
        request: Request[Any, Any, Any], chat_id: FromPath[str], attachment_id: FromPath[str]
    ) -> AttachmentDetail:
        return await service.get_attachment(
            security_of(request), chat_id_of(chat_id), child_id_of(attachment_id)
        )

    @delete(
        "/chats/{chat_id:str}/attachments/{attachment_id:str}",
        status_code=204,
        opt=authenticated("mini_chat.attachments.delete"),
        responses=problems(403, 404, 409),
        summary="Delete an attachment",
    )
    async def delete_attachment(
        request: Request[Any, Any, Any], chat_id: FromPath[str], attachment_id: FromPath[str]
    ) -> None:
        await service.delete_attachment(security_of(request), chat_id_of(chat_id), child_id_of(attachment_id))

    return [upload_attachment, get_attachment, delete_attachment]
