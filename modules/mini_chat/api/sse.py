"""The SSE relay (CI-4.2 … CI-4.4) and the ``text/event-stream`` response (C-9.1, C-9.2).

The relay only reads a ``TurnHandle`` queue and formats events: no database, no provider, no ``await`` in its
``finally`` (Litestar cancels the scope on disconnect and anyio re-cancels every await left in it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar.response import Stream

from ..domain.service_api import EndOfStream, TurnHandle
from ..domain.sse import (
    KEEPALIVE_COMMENT,
    Ping,
    SseGrammar,
    encode_event,
    event_name,
    stream_interrupted,
)
from ..domain.telemetry import NO_TELEMETRY, Telemetry

_log = structlog.get_logger("fabrikit.modules.mini_chat.sse")

# Litestar appends "; charset=utf-8" to text/* media types, giving the C-9.1 header exactly.
SSE_MEDIA_TYPE = "text/event-stream"
SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
# Items already queued are written together: one transport write for a burst of deltas instead of one each.
_MAX_BATCH = 64
_PING = encode_event(Ping())


class SseStream(Stream):
    """A ``Stream`` of pre-framed SSE bytes with the C-9.1 headers.

    Litestar's ``ServerSentEvent`` re-frames every chunk (CRLF, one ``data:`` per line) and hops to a thread
    before the first one; our events are framed once by ``domain.sse.encode_event`` and pass through untouched.
    """

    def __init__(self, content: AsyncIterator[bytes]) -> None:
        super().__init__(content=content, media_type=SSE_MEDIA_TYPE, headers=dict(SSE_HEADERS))


async def relay(
    handle: TurnHandle, *, ping_interval: float, keepalive: float, telemetry: Telemetry = NO_TELEMETRY
) -> AsyncIterator[bytes]:
    """Formats the handle's items until a terminal (``done``/``error``) is written, then returns (C-9.3).

    Silence handling (C-9.4): ``ping`` every ``ping_interval`` seconds until the first ``delta``/``tool``;
    ``: keep-alive`` after ``keepalive`` seconds without any write. An end sentinel with no terminal before it
    becomes ``error {code: "stream_interrupted"}`` (C-9.5). Out-of-order items are dropped and logged.
    """
    loop = asyncio.get_running_loop()
    grammar = SseGrammar()
    queue = handle.queue
    handle.attach()
    last_write = last_ping = loop.time()
    ended = False  # a terminal was written (or the producer ended): nothing more goes out
    try:
        while True:
            item: Any
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                now = loop.time()
                due = last_write + keepalive
                if grammar.started and not grammar.content_started:
                    due = min(due, last_ping + ping_interval)
                item = await handle.get(max(due - now, 0.0))
                if item is None:
                    now = loop.time()
                    if grammar.started and not grammar.content_started and now - last_ping >= ping_interval:
                        grammar.accept("ping")
                        last_ping = last_write = now
                        yield _PING
                    elif now - last_write >= keepalive:
                        last_write = now
                        yield KEEPALIVE_COMMENT
                    continue
            chunks: list[bytes] = []
            while True:
                if isinstance(item, EndOfStream):
                    if not grammar.finished:
                        _log.warning("sse_stream_interrupted", request_id=str(handle.request_id))
                        chunks.append(encode_event(stream_interrupted()))
                    ended = True
                    break
                name = event_name(item)
                if grammar.accept(name):
                    chunks.append(encode_event(item))
                    if grammar.finished:
                        ended = True
                        break
                else:
                    _log.warning("sse_event_dropped", event=name, request_id=str(handle.request_id))
                if len(chunks) >= _MAX_BATCH:
                    break
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
            if chunks:
                last_write = loop.time()
                yield chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if ended:
                return
    finally:
        if not ended:
            # Plain sync call: this scope may be cancelled (client gone); the producer finalizes on its own.
            handle.cancel("client_disconnect")
            stage = "mid_stream" if grammar.content_started else "before_first_token"
            telemetry.count("stream_disconnected", stage=stage)
