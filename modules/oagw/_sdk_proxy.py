"""``ProxyRequest`` and ``ProxyResponse`` of the in-process client (G-7.2, G-7.5)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Literal

import msgspec

from ._sdk_body import Body
from ._sdk_errors import ValidationError
from ._sdk_uri import normalize_path, split_proxy_uri

Headers = list[tuple[str, str]]
ErrorSource = Literal["upstream", "gateway"]
BodyInput = Body | bytes | bytearray | memoryview | AsyncIterable[bytes] | None


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    lname = name.lower()
    return [v for k, v in headers if k.lower() == lname]


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    values = header_values(headers, name)
    return values[0] if values else None


class ProxyRequest(msgspec.Struct, kw_only=True):
    """An outbound call: ``path`` is canonical and percent-encoded, ``query`` holds decoded pairs in order.

    Construction normalises the method (upper case) and the path (G-11.2), so direct construction and
    ``from_uri`` agree.
    """

    method: str
    alias: str
    path: str = "/"
    query: list[tuple[str, str]] = msgspec.field(default_factory=list)
    headers: list[tuple[str, str]] = msgspec.field(default_factory=list)
    body: Body = msgspec.field(default_factory=Body)

    def __post_init__(self) -> None:
        if not self.method or not self.method.isascii() or not self.method.isalpha():
            raise ValidationError("method must be an HTTP method token")
        self.method = self.method.upper()
        if not self.alias or "/" in self.alias:
            raise ValidationError("alias must be a non-empty single path segment")
        self.path = normalize_path(self.path if self.path.startswith("/") else "/" + self.path)
        self.query = [(str(k), str(v)) for k, v in self.query]
        self.headers = [(str(k), str(v)) for k, v in self.headers]
        if not isinstance(self.body, Body):
            self.body = Body.of(self.body)

    @classmethod
    def from_uri(
        cls,
        method: str,
        uri: str,
        headers: Iterable[tuple[str, str]] = (),
        body: BodyInput = None,
    ) -> ProxyRequest:
        """Parse ``/{alias}/{path}?{query}`` like the REST proxy does (G-11.2)."""
        alias, path, query = split_proxy_uri(uri)
        return cls(
            method=method, alias=alias, path=path, query=query, headers=list(headers), body=Body.of(body)
        )

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


class ProxyResponse:
    """The upstream's response (``error_source == "upstream"``); an async context manager.

    The body is always a stream. Exiting the context or ``aclose()`` releases the connection through the
    ``on_close`` callback the engine provides; ``read()`` buffers the rest of the body and then releases.
    """

    __slots__ = ("_closed", "_on_close", "body", "error_source", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: BodyInput,
        *,
        error_source: ErrorSource = "upstream",
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.status = status
        self.headers: Headers = list(headers)
        self.body = Body.of(body)
        self.error_source: ErrorSource = error_source
        self._on_close = on_close
        self._closed = False

    def __repr__(self) -> str:
        return f"ProxyResponse(status={self.status}, error_source={self.error_source}, body={self.body!r})"

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    def header_values(self, name: str) -> list[str]:
        return header_values(self.headers, name)

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    @property
    def closed(self) -> bool:
        return self._closed

    async def read(self, limit: int | None = None) -> bytes:
        try:
            return await self.body.read(limit)
        finally:
            await self.aclose()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield body chunks as they arrive; the response is released when iteration ends or is abandoned."""
        try:
            async for chunk in self.body.stream():
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self.body.aclose()
        finally:
            if self._on_close is not None:
                await self._on_close()

    async def __aenter__(self) -> ProxyResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
