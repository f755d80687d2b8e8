"""M-9.1: events/s of one zero-latency mock-llm stream (``lorem=200000``) read by an aiohttp client.

Run: ``.venv/bin/python bench/mock_llm.py``. The last line is one JSON object for CI.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from fabrikit.modules.mock_llm import MockLlmConfig, MockLlmServer

WORDS = 200_000
TARGET = 20_000
RUNS = 3


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
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
