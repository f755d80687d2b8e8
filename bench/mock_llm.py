"""M-9.1: events/s of one zero-latency mock-llm stream (``lorem=200000``) read by an aiohttp client.
M-9.3: p99 schedule error of 200 concurrent streams at ``latency=20`` (mock in its own process, as deployed).

Run: ``.venv/bin/python bench/mock_llm.py``. The last line is one JSON object for CI; the schedule result rides
along as extra fields (``schedule_p99_ms``, ``schedule_ok``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import time
from collections.abc import AsyncIterator

import aiohttp

from fabrikit.modules.mock_llm import MockLlmConfig, MockLlmServer

WORDS = 200_000
TARGET = 20_000
RUNS = 3
SCHEDULE_STREAMS = 200
SCHEDULE_LATENCY_MS = 20
SCHEDULE_DELTAS = 50
SCHEDULE_TARGET_MS = 10.0


async def read_stream(session: aiohttp.ClientSession, url: str, api: str) -> tuple[int, float, int]:
    """Returns (events, seconds, bytes)."""
    if api == "responses":
        path, body = "/v1/responses", {"model": "mock", "input": f"[[mock:lorem={WORDS}]]", "stream": True}
    else:
        path = "/v1/chat/completions"
        body = {
            "model": "mock",
            "messages": [{"role": "user", "content": f"[[mock:lorem={WORDS}]]"}],
            "stream": True,
        }
    events = size = 0
    started = time.perf_counter()
    async with session.post(url + path, json=body) as response:
        response.raise_for_status()
        # Frame events as an SSE consumer does: a blank line ends one (events may span chunks).
        pending = b""
        async for chunk in response.content.iter_any():
            size += len(chunk)
            frames = (pending + chunk).split(b"\n\n")
            events += len(frames) - 1
            pending = frames[-1]
    return events, time.perf_counter() - started, size


_DELTA_MARK = b"event: response.output_text.delta\n"


class _ArrivalProtocol(asyncio.Protocol):
    """Timestamps each text delta as its bytes arrive; deliberately minimal so the reader adds almost no delay
    of its own (an aiohttp client reading 200 streams costs more than the mock writing them)."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.arrivals: list[float] = []
        self._tail = b""
        self._done = done

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        window = self._tail + data
        self.arrivals.extend([now] * window.count(_DELTA_MARK))
        self._tail = window[-(len(_DELTA_MARK) - 1) :]
        if b"event: response.completed" in window and not self._done.done():
            self._done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(None)


async def stream_arrivals(port: int) -> list[float]:
    """Arrival time (perf_counter) of each text delta of one ``latency=20`` Responses stream."""
    directives = f"lorem={SCHEDULE_DELTAS},latency={SCHEDULE_LATENCY_MS}"
    body = json.dumps({"model": "mock", "input": f"[[mock:{directives}]]", "stream": True}).encode()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    transport, protocol = await loop.create_connection(lambda: _ArrivalProtocol(done), "127.0.0.1", port)
    try:
        transport.write(
            b"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await asyncio.wait_for(done, 60)
    finally:
        transport.close()
    return protocol.arrivals


def lateness_ms(arrivals: list[float]) -> list[float]:
    """Delta k is due at ``start + ttft + k·L``; the stream's start is estimated by its least-late delta, so the
    result is each delta's lateness against the best the stream achieved (network offset cancels out)."""
    step = SCHEDULE_LATENCY_MS / 1000
    start = min(t - k * step for k, t in enumerate(arrivals))
    return [(t - k * step - start) * 1000 for k, t in enumerate(arrivals)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.asynccontextmanager
async def mock_process() -> AsyncIterator[int]:
    """mock-llm in a child process: the measuring client must not share (and slow) the mock's event loop."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fabrikit.modules.mock_llm", "--port", str(port), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), 30)
        yield port
    finally:
        proc.terminate()
        await proc.wait()


async def schedule_p99_ms() -> float:
    async with mock_process() as port:
        streams = await asyncio.gather(*(stream_arrivals(port) for _ in range(SCHEDULE_STREAMS)))
    errors = [e for arrivals in streams for e in lateness_ms(arrivals)]
    short = sum(1 for arrivals in streams if len(arrivals) != SCHEDULE_DELTAS)
    p50, p99, worst = percentile(errors, 0.5), percentile(errors, 0.99), max(errors)
    print(
        f"schedule: {SCHEDULE_STREAMS} streams x {SCHEDULE_DELTAS} deltas at latency={SCHEDULE_LATENCY_MS}ms: "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms (target p99 <= {SCHEDULE_TARGET_MS} ms)"
        + (f", {short} streams short" if short else "")
    )
    return p99 if not short else float("inf")


async def main() -> None:
    results: dict[str, float] = {}
    async with MockLlmServer(MockLlmConfig(port=0)) as server, aiohttp.ClientSession() as session:
        print(f"{'api':<10} {'run':>3} {'events':>8} {'seconds':>8} {'MB':>7} {'events/s':>10}")
        for api in ("responses", "chat"):
            best = 0.0
            for run in range(1, RUNS + 1):
                events, seconds, size = await read_stream(session, server.base_url, api)
                rate = events / seconds
                best = max(best, rate)
                print(f"{api:<10} {run:>3} {events:>8} {seconds:>8.3f} {size / 1e6:>7.1f} {rate:>10.0f}")
            results[api] = best
    schedule = await schedule_p99_ms()
    value = results["responses"]
    print(f"best responses {value:.0f} events/s, chat {results['chat']:.0f} events/s (target {TARGET})")
    print(
        json.dumps(
            {
                "bench": "mock_llm",
                "metric": "events_per_second",
                "value": round(value, 1),
                "unit": "events/s",
                "target": TARGET,
                "ok": value >= TARGET,
                "schedule_p99_ms": round(schedule, 2) if schedule != float("inf") else None,
                "schedule_target_ms": SCHEDULE_TARGET_MS,
                "schedule_ok": schedule <= SCHEDULE_TARGET_MS,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
