"""``ANY /oagw/v1/proxy/{alias}/{path…}`` (G-11): the caller's request streams in, the upstream's streams out.

The route opts out of the host-wide body limit and timeout (``body_limit_bytes=0``, ``timeout_s=0``); oagw applies
its own. A client disconnect closes the upstream at once; a failure after the headers aborts the response without
the final chunk (G-11.4).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.handlers import HTTPRouteHandler

from fabrikit.kernel.http import RateLimit, authenticated

from ..domain.headers import check_request_framing
from ..sdk import Body, OagwError, ProxyRequest, ProxyResponse
from ..service import OagwService
from .context import security_of

METHODS: tuple[HttpMethod, ...] = (
    HttpMethod.GET,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.DELETE,
    HttpMethod.PATCH,
)
_MARKER = "/oagw/v1/proxy/"
# Small declared bodies are buffered so the upstream gets a Content-Length; larger ones stream chunked.
_BUFFER_DECLARED_UP_TO = 1024 * 1024
# The host's per-operation limiter is not oagw's (G-15); keep it out of the way of long-lived streams.
_HOST_LIMIT = RateLimit(rps=100_000, burst=100_000, in_flight=100_000)


class _ProxyASGI:
    """A raw ASGI response: exact status and headers, body chunks forwarded as they arrive."""

    def __init__(self, response: ProxyResponse) -> None:
        self._response = response

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        resp = self._response
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": resp.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers],
                }
            )
            pump = asyncio.ensure_future(self._pump(send))
            listen = asyncio.ensure_future(_wait_disconnect(receive))
            try:
                await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, listen):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(pump, listen, return_exceptions=True)
        finally:
            await resp.aclose()

    async def _pump(self, send: Any) -> None:
        try:
            async for chunk in self._response.body.stream():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OagwError:
            # Returning without the final message makes the server drop the connection: the caller sees an
            # aborted body, never a complete-looking one.
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _wait_disconnect(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class _ProxyResponseAdapter(Response[bytes]):
    def __init__(self, response: ProxyResponse) -> None:
        super().__init__(b"")
        self._proxied = response

    def to_asgi_response(self, app: Any, request: Any, **kwargs: Any) -> Any:
        return _ProxyASGI(self._proxied)


def _raw_uri(request: Request[Any, Any, Any]) -> str:
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()  # type: ignore[call-overload]
    text = raw.decode("latin-1")
    index = text.find(_MARKER)
    rest = text[index + len(_MARKER) :] if index >= 0 else ""
    query = (request.scope.get("query_string") or b"").decode("latin-1")  # type: ignore[call-overload]
    return "/" + rest + (f"?{query}" if query else "")


async def _request_body(request: Request[Any, Any, Any], headers: list[tuple[str, str]], limit: int) -> Body:
    declared = check_request_framing(headers, max_body_size=limit)
    chunked = any(k.lower() == "transfer-encoding" for k, _ in headers)
    if declared == 0 or (declared is None and not chunked):
        return Body()
    if declared is not None and declared <= _BUFFER_DECLARED_UP_TO:
        return Body(await request.body())

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            if chunk:
                yield chunk

    return Body(chunks())


def proxy_handlers(service: OagwService, *, max_body_size: int | None = None) -> list[HTTPRouteHandler]:
    limit = max_body_size if max_body_size is not None else service_limit(service)

    async def handle(request: Request[Any, Any, Any]) -> Response[bytes]:
        ctx = security_of(request)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        body = await _request_body(request, headers, limit)
        proxy_request = ProxyRequest.from_uri(request.method, _raw_uri(request), headers, body)
        client = request.client
        response = await service.proxy_request(ctx, proxy_request, client_ip=client.host if client else None)
        return _ProxyResponseAdapter(response)

    handlers: list[HTTPRouteHandler] = []
    for method in METHODS:
        for suffix, path in (("alias", "/{alias:str}"), ("path", "/{alias:str}/{rest:path}")):
            handlers.append(
                route(
                    path,
                    http_method=[method],
                    status_code=200,
                    name=f"oagw_proxy_{method.lower()}_{suffix}",
                    opt=authenticated(
                        f"oagw.proxy.{method.lower()}.{suffix}",
                        body_limit_bytes=0,
                        timeout_s=0,
                        streaming=True,
                        rate_limit=_HOST_LIMIT,
                    ),
                    include_in_schema=suffix == "path",
                )(_bind(handle, method, suffix))
            )
    return handlers


def _bind(handle: Any, method: str, suffix: str) -> Any:
    # Litestar needs a distinct function per handler; the path parameters are read from the raw path instead.
    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await handle(request)

    handler.__name__ = f"oagw_proxy_{method.lower()}_{suffix}"
    with contextlib.suppress(AttributeError):
        handler.__qualname__ = handler.__name__
    return handler


def service_limit(service: OagwService) -> int:
    proxy = service.proxy
    config = getattr(proxy, "config", None)
    return int(getattr(config, "max_body_size_bytes", 104_857_600))
