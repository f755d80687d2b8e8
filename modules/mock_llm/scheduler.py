"""Stream timing and write coalescing (M-9).

Delta k is due at ``start + ttft + k·latency`` on the loop clock, computed from absolute times so
lateness never accumulates; every event already due goes out in the same write. With no latency, events
are packed into writes of at most ``coalesce_bytes`` (one event larger than that goes alone), each write
awaited so the transport's flow control (drain) applies per write, not per event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

from .plan import ReplyPlan

StreamEnd = Literal["closed", "failed", "dropped", "stalled"]


class Encoder(Protocol):
    delta_count: int
    terminal: str | None

    def preamble(self) -> list[bytes]: ...
    def prelude(self) -> list[bytes]: ...
    def write_delta(self, buf: bytearray, k: int) -> None: ...
    def malformed(self) -> bytes: ...
    def closing(self) -> list[bytes]: ...
    def failure(self, after_deltas: int) -> list[bytes]: ...


class EventSink:
    """Buffers encoded events and writes them in batches; counts what actually reached the transport."""

    def __init__(
        self, write: Callable[[bytes], Awaitable[None]], coalesce_bytes: int, on_sent: Callable[[int], None]
    ) -> None:
        self.buf = bytearray()
        self.pending = 0
        self.sent = 0
        self.limit = coalesce_bytes
        self._write = write
        self._on_sent = on_sent

    def add(self, event: bytes) -> None:
        self.buf += event
        self.pending += 1

    def add_all(self, events: list[bytes]) -> None:
        for event in events:
            self.add(event)

    async def flush(self) -> None:
        if self.buf:
            await self._send(bytes(self.buf), self.pending)
            self.buf.clear()
            self.pending = 0

    async def flush_before(self, mark: int, kept: int) -> None:
        """Write the bytes before ``mark`` and keep the ``kept`` newest events (after ``mark``) buffered."""
        head = bytes(self.buf[:mark])
        del self.buf[:mark]
        count = self.pending - kept
        self.pending = kept
        await self._send(head, count)

    async def _send(self, data: bytes, count: int) -> None:
        await self._write(data)
        self.sent += count
        self._on_sent(count)


async def sleep_until(when: float) -> None:
    loop = asyncio.get_running_loop()
    if when <= loop.time():
        return
    future: asyncio.Future[None] = loop.create_future()
    handle = loop.call_at(when, _wake, future)
    try:
        await future
    finally:
        handle.cancel()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def run_stream(
    encoder: Encoder, plan: ReplyPlan, sink: EventSink, *, start: float, stall_secs: float
) -> StreamEnd:
    """Write the whole stream; returns how it ended. Cancellation (client gone) propagates to the caller."""
    directives = plan.directives
    sink.add_all(encoder.preamble())
    await sink.flush()
    t0 = start + directives.ttft / 1000
    await sleep_until(t0)
    sink.add_all(encoder.prelude())
    interruption = plan.interruption()
    stop = interruption[1] if interruption else encoder.delta_count
    latency = directives.latency / 1000
    malformed_at = 0 if directives.malformed else -1
    limit = sink.limit
    buf = sink.buf
    write_delta = encoder.write_delta
    loop = asyncio.get_running_loop()
    for k in range(stop):
        if latency:
            due = t0 + k * latency
            if due > loop.time():
                await sink.flush()
                await sleep_until(due)
        mark, before = len(buf), sink.pending
        write_delta(buf, k)
        sink.pending += 1
        if k == malformed_at:
            sink.add(encoder.malformed())
        if len(buf) >= limit:
            if len(buf) > limit and mark:
                await sink.flush_before(mark, sink.pending - before)
            else:
                await sink.flush()
    if interruption is None:
        sink.add_all(encoder.closing())
        await sink.flush()
        return "closed"
    kind, after = interruption
    if kind == "fail":
        sink.add_all(encoder.failure(after))
        await sink.flush()
        return "failed"
    await sink.flush()
    if kind == "stall":
        await asyncio.sleep(stall_secs)
        return "stalled"
    return "dropped"
