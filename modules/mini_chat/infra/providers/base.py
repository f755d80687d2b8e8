"""What every provider adapter shares: the oagw request, the SSE loop, error mapping (CI-13.4) and dispatch facts.

oagw raises typed errors for its own failures and returns the upstream's answer otherwise (G-7.5). The stream is
read inside ``async with`` on the response, so leaving the generator — normally, by ``aclose`` or by cancellation —
closes the upstream connection (CI-4.6, G-16.6).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import msgspec
import structlog

from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.oagw.sdk import (
    Body,
    CircuitBreakerOpenError,
    ConnectionTimeoutError,
    DownstreamError,
    IdleTimeoutError,
    LinkUnavailableError,
    NotSse,
    OagwClient,
    OagwError,
    ProtocolError,
    ProxyRequest,
    ProxyResponse,
    RateLimitExceededError,
    RequestTimeoutError,
    ServerEvent,
    StreamAbortedError,
    from_response,
)

from ...domain.ports import DispatchState, ProviderCallError
from ...domain.provider_events import (
    TERMINAL_TYPES,
    Failed,
    FileRef,
    GatewayFailureKind,
    ProviderEvent,
    failed_from_gateway,
    failed_from_http,
)
from ...domain.provider_usage import ProviderUsage
from .resolver import UpstreamTarget

_log = structlog.get_logger("mini_chat.providers")

ERROR_BODY_LIMIT = 64 * 1024
COMPLETION_BODY_LIMIT = 16 * 1024 * 1024


class EventNormalizer(Protocol):
    """One stream's state machine: provider SSE events in, normalized events out (``provider_events``)."""

    @property
    def terminal(self) -> ProviderEvent | None: ...

    def feed(self, event: ServerEvent) -> list[ProviderEvent]: ...

    def end(self) -> list[ProviderEvent]: ...


class WireFormat(Protocol):
    """One provider API shape (Responses, Chat Completions, …)."""

    def normalizer(self, file_map: Mapping[str, FileRef], files_searchable: int) -> EventNormalizer: ...

    def completion_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """The non-streaming variant of a request body (CI-13.8)."""
        ...

    def completion_result(self, payload: bytes) -> tuple[str, ProviderUsage | None]:
        """Joined output text and usage of a non-streaming answer; ``ProviderCallError`` if it is malformed."""
        ...

    def usage_of(self, payload: Any) -> ProviderUsage | None:
        """Usage inside a JSON answer, when there is one (a 2xx non-SSE answer to a streamed call)."""
        ...


def event_data(event: ServerEvent) -> Any:
    """The event's JSON, or ``None`` when it is not JSON (the normalizers turn that into a malformed-event failure)."""
    try:
        return event.json()
    except ProtocolError:
        return None


# -- requests --------------------------------------------------------------------------------------------------


def build_proxy_request(
    target: UpstreamTarget, model: str, body: dict[str, Any], *, stream: bool
) -> ProxyRequest:
    """``POST /{alias}{api_path}`` with ``{model}`` filled in; JSON body; SSE or JSON accepted."""
    return ProxyRequest(
        method="POST",
        alias=target.alias,
        path=target.path_for(model),
        query=list(target.api_query),
        headers=[
            ("content-type", "application/json"),
            ("accept", "text/event-stream" if stream else "application/json"),
        ],
        body=Body(msgspec.json.encode(body)),
    )


# -- errors (CI-13.4) ------------------------------------------------------------------------------------------

# Raised after the request reached the upstream: the provider may have generated (and billed) something (CI-6).
_AFTER_FORWARDING: tuple[type[OagwError], ...] = (
    RequestTimeoutError,
    IdleTimeoutError,
    StreamAbortedError,
    ProtocolError,
)


def raised_before_forwarding(exc: OagwError) -> bool:
    """CI-6 "nothing generated": connect/DNS/link failures, open circuit, oagw's rate limit, any pipeline refusal.

    A 502 ``DownstreamError`` (the upstream closed the connection before answering; TLS failures share the type)
    counts as forwarded, the conservative side for billing."""
    if isinstance(exc, _AFTER_FORWARDING):
        return False
    return not (isinstance(exc, DownstreamError) and exc.status == 502)


def _gateway_kind(exc: OagwError) -> GatewayFailureKind:
    if isinstance(exc, RateLimitExceededError):
        return "rate_limited"
    if isinstance(exc, ConnectionTimeoutError):
        return "connect_timeout"
    if isinstance(exc, RequestTimeoutError):
        return "request_timeout"
    if isinstance(exc, IdleTimeoutError):
        return "idle_timeout"
    if isinstance(exc, StreamAbortedError):
        return "stream_aborted"
    if isinstance(exc, LinkUnavailableError):
        return "link"
    if isinstance(exc, CircuitBreakerOpenError):
        return "circuit"
    return "other"


def failed_from_oagw(exc: OagwError) -> Failed:
    """oagw's rate limit → ``rate_limited``; its timeouts → ``provider_timeout``; anything else → ``provider_error``."""
    return failed_from_gateway(_gateway_kind(exc), exc.detail or exc.title)


def decode_error_body(raw: bytes) -> Any:
    """JSON when it parses (``failed_from_http`` then reads ``error.code/message``), else the raw bytes."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw


async def read_capped(resp: ProxyResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body; the rest is dropped with the connection (no unbounded buffering)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.body.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    await resp.aclose()
    return b"".join(chunks)[:limit]


# -- the stream ------------------------------------------------------------------------------------------------


async def _not_sse(reply: NotSse, wire: WireFormat, state: DispatchState) -> Failed:
    status = reply.status
    try:
        payload = decode_error_body(await read_capped(reply.response, ERROR_BODY_LIMIT))
    except OagwError:
        payload = b""
    if status >= 300:
        state.nothing_generated = True  # CI-6: the provider answered an HTTP error, no stream
        return failed_from_http(status, payload)
    usage = wire.usage_of(payload) if isinstance(payload, dict) else None
    return Failed(
        code="provider_error", message="The provider answered without an event stream.", usage=usage
    )


async def stream_events(
    oagw: OagwClient,
    ctx: SecurityContext,
    request: ProxyRequest,
    normalizer: EventNormalizer,
    wire: WireFormat,
    state: DispatchState,
) -> AsyncIterator[ProviderEvent]:
    """Send, then yield normalized events ending with exactly one terminal; failures are ``Failed`` events.

    After the terminal the stream is read on to its end (trailing frames are ignored), so a consumer bounding its
    trailing drain sees the generator finish at EOF; closing it earlier closes the upstream."""
    state.dispatched = True
    try:
        resp = await oagw.proxy_request(ctx, request)
    except OagwError as exc:
        state.nothing_generated = raised_before_forwarding(exc)
        yield failed_from_oagw(exc)
        return
    async with resp:
        reply = from_response(resp)
        if isinstance(reply, NotSse):
            yield await _not_sse(reply, wire, state)
            return
        try:
            async with contextlib.aclosing(reply.events) as events:
                async for event in events:
                    for out in normalizer.feed(event):
                        yield out
            for out in normalizer.end():
                yield out
        except OagwError as exc:
            if normalizer.terminal is None:
                yield failed_from_oagw(exc)


async def guarded(
    events: AsyncGenerator[ProviderEvent, None], on_crash: Callable[[], Failed]
) -> AsyncIterator[ProviderEvent]:
    """The port promises ``Failed`` events, never exceptions: an unexpected adapter fault becomes one."""
    terminal = False
    try:
        async with contextlib.aclosing(events) as inner:
            async for event in inner:
                terminal = terminal or isinstance(event, TERMINAL_TYPES)
                yield event
    except Exception as exc:
        _log.error("mini_chat_provider_adapter_failed", error=type(exc).__name__)
        if not terminal:
            yield on_crash()


# -- non-streaming (CI-13.8) -----------------------------------------------------------------------------------


async def complete_call(
    oagw: OagwClient, ctx: SecurityContext, request: ProxyRequest, wire: WireFormat, timeout_seconds: float
) -> tuple[str, ProviderUsage | None]:
    """One JSON call within ``timeout_seconds``; failures raise ``ProviderCallError`` with a CI-13.4 code."""
    try:
        async with asyncio.timeout(timeout_seconds):
            resp = await oagw.proxy_request(ctx, request)
            async with resp:
                if resp.status >= 300:
                    raw = await read_capped(resp, ERROR_BODY_LIMIT)
                    failed = failed_from_http(resp.status, decode_error_body(raw))
                    raise ProviderCallError(failed.code, failed.message)
                raw = await read_capped(resp, COMPLETION_BODY_LIMIT)
    except TimeoutError:
        raise ProviderCallError("provider_timeout", "The provider did not answer in time.") from None
    except OagwError as exc:
        failed = failed_from_oagw(exc)
        raise ProviderCallError(failed.code, failed.message) from None
    return wire.completion_result(raw)
