"""The aiohttp engine (G-16, G-17.3, G-18.3): two sessions, timeouts, streamed bodies, error mapping.

The guarded session's resolver applies the whole network policy; the open session's resolver refuses only
metadata addresses and serves upstreams allowed by G-17.4 (flagged, or allowlisted ``host:port``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from yarl import URL

from ..config import OagwConfig
from ..domain.netpolicy import NetworkPolicy
from ..sdk import (
    Body,
    ConnectionTimeoutError,
    DownstreamError,
    IdleTimeoutError,
    LinkUnavailableError,
    OagwError,
    PayloadTooLargeError,
    ProtocolError,
    RequestTimeoutError,
    StreamAbortedError,
    ValidationError,
)
from .dns import GuardedResolver

# G-17.6: response reads are bounded; aiohttp never buffers more than this per read.
READ_BUFSIZE = 8 * 1024 * 1024
_SKIP_AUTO_HEADERS = frozenset({"User-Agent", "Accept-Encoding"})


def map_client_error(exc: BaseException, *, before_headers: bool = True) -> OagwError:
    """G-18.3: aiohttp failures → typed gateway errors. Details never carry addresses or secrets."""
    if isinstance(exc, OagwError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectionTimeoutError("connecting to the upstream timed out")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return DownstreamError("TLS handshake with the upstream failed")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return LinkUnavailableError("the upstream host name could not be resolved")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return LinkUnavailableError("the upstream is unreachable")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return StreamAbortedError("the upstream response body was cut short")
    if isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        if before_headers:
            return RequestTimeoutError("the upstream did not answer in time")
        return IdleTimeoutError("the upstream stopped sending data")
    if isinstance(exc, aiohttp.InvalidURL):
        return ValidationError("the outbound URL is invalid")
    if isinstance(exc, aiohttp.ClientResponseError):
        return ProtocolError("the upstream sent a malformed HTTP response")
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        if before_headers:
            return DownstreamError("the upstream closed the connection before answering")
        return StreamAbortedError("the upstream connection was reset mid-body")
    return DownstreamError("the upstream call failed")


class UpstreamReply:
    """Status, raw headers and a body iterator of one upstream response; ``close()`` releases the connection."""

    def __init__(self, response: aiohttp.ClientResponse, idle_timeout: float) -> None:
        self._response = response
        self.status = response.status
        self.headers: list[tuple[str, str]] = [(k, v) for k, v in response.headers.items()]
        self.idle_timeout = idle_timeout
        self.bytes_in = 0
        self._closed = False

    async def iter_body(self) -> AsyncIterator[bytes]:
        """Chunks as they arrive; a gap over ``idle_timeout`` → ``IdleTimeoutError``; a cut → ``StreamAbortedError``.

        Closing the generator early (consumer stopped, client disconnected) closes the upstream connection."""
        content = self._response.content
        completed = False
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        chunk = await content.readany()
                except TimeoutError:
                    raise IdleTimeoutError("the upstream stopped sending data") from None
                except (aiohttp.ClientError, ConnectionError) as exc:
                    raise map_client_error(exc, before_headers=False) from None
                if not chunk:
                    completed = True
                    return
                self.bytes_in += len(chunk)
                yield chunk
        finally:
            await self.close(reuse=completed)

    async def close(self, *, reuse: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if reuse:
            self._response.release()
        else:
            # Not fully read: drop the connection so the upstream sees the disconnect (G-16.6).
            self._response.close()


class _Source:
    """Wraps a streamed request body: remembers why the source failed, since aiohttp hides it (G-16.5)."""

    def __init__(self, body: Body, limit: int) -> None:
        self._body = body
        self._limit = limit
        self.error: BaseException | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._body.stream(self._limit):
                yield chunk
        except BaseException as exc:
            self.error = exc
            raise


class AiohttpEngine:
    def __init__(self, config: OagwConfig, policy: NetworkPolicy) -> None:
        self._config = config
        self._policy = policy
        self._guarded: aiohttp.ClientSession | None = None
        self._open: aiohttp.ClientSession | None = None

    def _session(self, *, metadata_only: bool) -> aiohttp.ClientSession:
        cfg = self._config
        connector = aiohttp.TCPConnector(
            limit=cfg.pool_max_connections,
            keepalive_timeout=cfg.pool_idle_timeout_secs,
            resolver=GuardedResolver(self._policy, metadata_only=metadata_only),
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            read_bufsize=READ_BUFSIZE,
            timeout=aiohttp.ClientTimeout(total=None, connect=cfg.connect_timeout_secs),
        )

    async def start(self) -> None:
        if self._guarded is None:
            self._guarded = self._session(metadata_only=False)
            self._open = self._session(metadata_only=True)

    async def close(self) -> None:
        for session in (self._guarded, self._open):
            if session is not None:
                await session.close()
        self._guarded = self._open = None

    @property
    def guarded_session(self) -> aiohttp.ClientSession:
        if self._guarded is None:
            raise DownstreamError("oagw is not started", status=500)
        return self._guarded

    async def send(
        self,
        *,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: Body,
        open_network: bool,
        idle_timeout: Callable[[list[tuple[str, str]]], float],
    ) -> UpstreamReply:
        """Send and wait for the response headers within ``proxy_timeout_secs`` (G-16.3); no retries (G-16.4)."""
        session = self._open if open_network else self._guarded
        if session is None:
            raise DownstreamError("oagw is not started", status=500)
        cfg = self._config
        source: _Source | None = None
        data: Any = None
        if body.is_stream:
            source = _Source(body, cfg.max_body_size_bytes)
            data = source.chunks()
        elif not body.is_empty:
            data = await body.read(cfg.max_body_size_bytes)
        try:
            async with asyncio.timeout(cfg.proxy_timeout_secs):
                response = await session.request(
                    method,
                    # Already canonical and percent-encoded (G-4.5): yarl must not re-normalise it.
                    URL(url, encoded=True),
                    headers=_multidict(headers),
                    data=data,
                    allow_redirects=False,
                    skip_auto_headers=_SKIP_AUTO_HEADERS,
                    compress=None,
                )
        except BaseException as exc:
            if source is not None and source.error is not None:
                if isinstance(source.error, PayloadTooLargeError):
                    raise source.error from None
                raise StreamAbortedError("the request body source failed") from None
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            raise map_client_error(exc) from None
        reply = UpstreamReply(response, 0.0)
        reply.idle_timeout = idle_timeout(reply.headers)
        return reply


def _multidict(headers: list[tuple[str, str]]) -> Any:
    from multidict import CIMultiDict

    return CIMultiDict(headers)


def monotonic_ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)
