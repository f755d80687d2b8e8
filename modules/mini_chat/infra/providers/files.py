"""``OagwFiles``: the provider Files and vector-store calls of attachments (CI-12), through oagw like every call.

Paths follow the provider's storage kind (OpenAI ``/v1/…``, Azure ``/openai/…`` with ``api-version``); the routes
were provisioned at start (``provisioning.route_specs``). Bodies are small JSON, or one buffered multipart upload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from uuid import UUID

import msgspec
import structlog

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.oagw.sdk import Body, Multipart, OagwClient, OagwError, ProxyRequest

from ...domain.ports import ProviderCallError
from ...domain.provider_events import failed_from_http
from .base import decode_error_body, failed_from_oagw, read_capped
from .resolver import ProviderResolver, UpstreamTarget

_log = structlog.get_logger("mini_chat.providers")
_BODY_LIMIT = 256 * 1024
# Indexing is polled until it ends (C-13.7: the upload answers after indexing), with this backoff and limit.
_POLL_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)
INDEXING_TIMEOUT_SECONDS = 120.0


class _FileObject(msgspec.Struct):
    id: str


class _LastError(msgspec.Struct):
    code: str | None = None
    message: str | None = None


class _VectorStoreFile(msgspec.Struct):
    status: str = "completed"
    last_error: _LastError | None = None


class OagwFiles:
    def __init__(
        self, oagw: OagwClient, resolver: ProviderResolver, context: Callable[[], SecurityContext]
    ) -> None:
        self._oagw = oagw
        self._resolver = resolver
        self._context = context

    def _request(
        self, provider_id: str, tenant_id: UUID, method: str, tail: str, body: Any = None
    ) -> ProxyRequest:
        target: UpstreamTarget = self._resolver.resolve(provider_id, tenant_id)
        return ProxyRequest(
            method=method,
            alias=target.alias,
            path=target.rag_root + tail,
            query=list(target.rag_query),
            headers=[("content-type", "application/json"), ("accept", "application/json")],
            body=Body(msgspec.json.encode(body)) if body is not None else Body(),
        )

    async def _call(self, request: ProxyRequest, *, missing_ok: bool = False) -> bytes:
        try:
            resp = await self._oagw.proxy_request(self._context(), request)
            async with resp:
                raw = await read_capped(resp, _BODY_LIMIT)
                status = resp.status
        except OagwError as exc:
            failed = failed_from_oagw(exc)
            raise ProviderCallError(failed.code, failed.message) from None
        if status == 404 and missing_ok:
            return b""
        if status >= 300:
            failed = failed_from_http(status, decode_error_body(raw))
            raise ProviderCallError(failed.code, failed.message)
        return raw

    def _resolve(
        self, provider_id: str, tenant_id: UUID, method: str, tail: str, body: Any = None
    ) -> ProxyRequest:
        try:
            return self._request(provider_id, tenant_id, method, tail, body)
        except (DomainError, OagwError) as exc:
            _log.error(
                "mini_chat_provider_unavailable", provider_id=provider_id, error=getattr(exc, "detail", "")
            )
            raise ProviderCallError("provider_error", "The model's provider is not available.") from None

    async def upload_file(
        self, tenant_id: UUID, provider_id: str, *, filename: str, content_type: str, data: bytes
    ) -> str:
        base = self._resolve(provider_id, tenant_id, "POST", "/files")
        form = (
            Multipart()
            .text("purpose", "assistants")
            .bytes("file", data, filename=filename, content_type=content_type)
        )
        request = form.into_request("POST", base.alias, base.path, [("accept", "application/json")])
        request.query = base.query
        raw = await self._call(request)
        return _decode(raw, _FileObject).id

    async def create_vector_store(self, tenant_id: UUID, provider_id: str, *, name: str) -> str:
        raw = await self._call(
            self._resolve(provider_id, tenant_id, "POST", "/vector_stores", {"name": name})
        )
        return _decode(raw, _FileObject).id

    async def add_vector_store_file(
        self,
        tenant_id: UUID,
        provider_id: str,
        vector_store_id: str,
        file_id: str,
        attributes: dict[str, str],
    ) -> None:
        files = f"/vector_stores/{_seg(vector_store_id)}/files"
        body = {"file_id": file_id, "attributes": attributes}
        state = _decode(
            await self._call(self._resolve(provider_id, tenant_id, "POST", files, body)), _VectorStoreFile
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INDEXING_TIMEOUT_SECONDS
        attempt = 0
        while state.status == "in_progress":
            if loop.time() > deadline:
                raise ProviderCallError("indexing_failed", "Indexing did not finish in time.")
            await asyncio.sleep(_POLL_DELAYS[min(attempt, len(_POLL_DELAYS) - 1)])
            attempt += 1
            one = f"{files}/{_seg(file_id)}"
            state = _decode(
                await self._call(self._resolve(provider_id, tenant_id, "GET", one)), _VectorStoreFile
            )
        if state.status != "completed":
            raise ProviderCallError("indexing_failed", "The provider could not index the file.")

    async def remove_vector_store_file(
        self, tenant_id: UUID, provider_id: str, vector_store_id: str, file_id: str
    ) -> None:
        tail = f"/vector_stores/{_seg(vector_store_id)}/files/{_seg(file_id)}"
        await self._call(self._resolve(provider_id, tenant_id, "DELETE", tail), missing_ok=True)

    async def delete_file(self, tenant_id: UUID, provider_id: str, file_id: str) -> None:
        await self._call(
            self._resolve(provider_id, tenant_id, "DELETE", f"/files/{_seg(file_id)}"), missing_ok=True
        )

    async def delete_vector_store(self, tenant_id: UUID, provider_id: str, vector_store_id: str) -> None:
        tail = f"/vector_stores/{_seg(vector_store_id)}"
        await self._call(self._resolve(provider_id, tenant_id, "DELETE", tail), missing_ok=True)


def _seg(value: str) -> str:
    return quote(value, safe="-._~")


def _decode(raw: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise ProviderCallError("provider_error", "The provider answered something unexpected.") from None


__all__ = ["INDEXING_TIMEOUT_SECONDS", "OagwFiles"]
