"""mini-chat streaming overhead against the real server and mock-llm, each in its own process, in one run.

(a) time to first delta through fabrikit minus the same request straight to mock-llm, p50/p99, at 1 and at 50
    concurrent streams (targets: p50 ≤ 5 ms, p99 ≤ 20 ms at 1; p99 ≤ 50 ms at 50);
(b) the floor — one loopback SSE relay plus one committed SQLite write transaction, measured the same way — and
    our overhead as a multiple of it (target ≤ 3x);
(c) client disconnect → mock-llm sees its connection closed, p99 (target ≤ 200 ms);
(d) deltas/s on one stream (target ≥ 10 000);
(e) server RSS growth per open stream at 500 concurrent streams (target ≤ 150 KB).

Run: ``.venv/bin/python bench/streaming.py [--quick]``. The last line is one JSON object for CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

SCRIPT = str(Path(__file__).resolve())
TOKEN = {"Authorization": "Bearer bench"}
MODEL = "gpt-4.1-mini"
DELTA = b"event: delta\n"
MOCK_DELTA = b"event: response.output_text.delta\n"
TARGETS = {
    "ttft_overhead_p50_ms_1": 5.0,
    "ttft_overhead_p99_ms_1": 20.0,
    "ttft_overhead_p99_ms_50": 50.0,
    "overhead_vs_floor_x": 3.0,
    "disconnect_abort_p99_ms": 200.0,
    "deltas_per_second": 10_000.0,
    "rss_kb_per_stream": 150.0,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- child processes ------------------------------------------------------------------------------------------


def server_config(api_port: int, mock_port: int) -> dict[str, Any]:
    huge = {"limit_daily_credits_micro": 10**15, "limit_monthly_credits_micro": 10**15}
    return {
        "modules": {
            "types-registry": None,
            "authn-resolver": None,
            "authz-resolver": None,
            "tenant-resolver": None,
            "credstore": None,
            "api-gateway": {
                "config": {
                    "bind_addr": f"127.0.0.1:{api_port}",
                    "defaults": {"rate_limit": {"rps": 100_000, "burst": 100_000, "in_flight": 4096}},
                }
            },
            "oagw": {
                "config": {
                    "allow_http_upstream": True,
                    "private_network_allowlist": [f"127.0.0.1:{mock_port}"],
                }
            },
            "mini-chat": {
                "config": {
                    "providers": {
                        "mock": {
                            "kind": "openai_responses",
                            "host": "127.0.0.1",
                            "port": mock_port,
                            "use_http": True,
                            "upstream_alias": "mock-llm",
                        }
                    }
                }
            },
        },
        "plugins": {
            "static-authn": {
                "config": {
                    "mode": "accept_all",
                    "s2s_credentials": [{"client_id": "mini-chat", "client_secret": "dev"}],
                }
            },
            "static-model-policy": {
                "config": {"default_standard_limits": huge, "default_premium_limits": huge}
            },
        },
        "logging": {"level": "error"},
    }


async def serve_fabrikit(api_port: int, mock_port: int, home: str) -> None:
    from fabrikit.kernel import freeze_startup_heap
    from fabrikit.kernel.logging import configure_logging_from_config
    from fabrikit.kernel.testing import RuntimeHarness
    from fabrikit.modules.api_gateway.module import ApiGateway
    from fabrikit.modules.authn_resolver.module import AuthnResolver
    from fabrikit.modules.authz_resolver.module import AuthzResolver
    from fabrikit.modules.credstore.module import CredStore
    from fabrikit.modules.mini_chat.module import MiniChat
    from fabrikit.modules.oagw.module import Oagw
    from fabrikit.modules.tenant_resolver.module import TenantResolver
    from fabrikit.modules.types_registry.module import TypesRegistryModule
    from fabrikit.plugins.log_audit.plugin import DEFINITION as LOG_AUDIT
    from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
    from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
    from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
    from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE
    from fabrikit.plugins.static_model_policy.plugin import DEFINITION as STATIC_MODEL_POLICY

    harness = RuntimeHarness(
        modules=[
            TypesRegistryModule,
            AuthnResolver,
            AuthzResolver,
            TenantResolver,
            CredStore,
            ApiGateway,
            Oagw,
            MiniChat,
        ],
        plugins=[STATIC_AUTHN, STATIC_AUTHZ, SINGLE_TENANT, STATIC_CREDSTORE, STATIC_MODEL_POLICY, LOG_AUDIT],
        config=server_config(api_port, mock_port),
        home=home,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # As `fabrikit run` sets up the process: its logging configuration (the harness leaves structlog's
    # print-everything default), and the start-up heap frozen once the modules are running.
    configure_logging_from_config(harness.config.logging)
    async with harness:
        freeze_startup_heap()
        print("ready", flush=True)
        await stop.wait()


async def serve_floor(port: int, mock_port: int, home: str) -> None:
    """The floor: per request one committed SQLite write transaction, then a byte relay of the upstream SSE."""
    import aiosqlite
    from aiohttp import web

    db = await aiosqlite.connect(os.path.join(home, "floor.sqlite"))
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("CREATE TABLE IF NOT EXISTS turns (id TEXT PRIMARY KEY, content TEXT, state TEXT)")
    await db.commit()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    upstream = f"http://127.0.0.1:{mock_port}/v1/responses"

    async def relay(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await db.execute("BEGIN IMMEDIATE")
        await db.execute("INSERT INTO turns VALUES (?, ?, 'running')", (uuid.uuid4().hex, body["input"]))
        await db.commit()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        async with session.post(upstream, json=body) as up:
            async for chunk in up.content.iter_any():
                await response.write(chunk)
        return response

    app = web.Application()
    app.router.add_post("/relay", relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await session.close()
    await db.close()
    await runner.cleanup()


@contextlib.contextmanager
def child(*args: str) -> Any:
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        while (line := proc.stdout.readline()) and "ready" not in line and "listening" not in line:
            pass
        if not line:
            raise RuntimeError(f"child {args} exited before it was ready")
        # Keep draining its output so a chatty child never blocks on a full pipe.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- client measurements -------------------------------------------------------------------------------------


class Client:
    def __init__(self, session: aiohttp.ClientSession, api: str, mock: str, floor: str) -> None:
        self.s, self.api, self.mock, self.floor = session, api, mock, floor

    async def new_chat(self) -> str:
        async with self.s.post(f"{self.api}/mini-chat/v1/chats", json={"model": MODEL}, headers=TOKEN) as r:
            assert r.status == 201, await r.text()
            return str((await r.json())["id"])

    async def _first(self, method: Awaitable[aiohttp.ClientResponse], mark: bytes) -> float:
        started = time.perf_counter()
        async with await method as resp:  # type: ignore[misc]
            assert resp.status == 200, await resp.text()
            buffered = b""
            async for chunk in resp.content.iter_any():
                buffered += chunk
                if mark in buffered:
                    elapsed = time.perf_counter() - started
                    break
            else:
                raise AssertionError("no delta")
            async for _ in resp.content.iter_any():
                pass
        return elapsed * 1000

    async def ttft_fabrikit(self, chat_id: str, content: str) -> float:
        url = f"{self.api}/mini-chat/v1/chats/{chat_id}/messages:stream"
        return await self._first(self.s.post(url, json={"content": content}, headers=TOKEN), DELTA)  # type: ignore[arg-type]

    async def ttft_direct(self, content: str) -> float:
        body = {"model": MODEL, "input": content, "stream": True}
        return await self._first(self.s.post(f"{self.mock}/v1/responses", json=body), MOCK_DELTA)  # type: ignore[arg-type]

    async def ttft_floor(self, content: str) -> float:
        body = {"model": MODEL, "input": content, "stream": True}
        return await self._first(self.s.post(f"{self.floor}/relay", json=body), MOCK_DELTA)  # type: ignore[arg-type]


async def concurrent(n: int, fn: Callable[[int], Awaitable[float]], rounds: int) -> list[float]:
    out: list[float] = []
    for _ in range(rounds):
        out += await asyncio.gather(*(fn(i) for i in range(n)))
    return out


async def ttft_suite(c: Client, samples: int, rounds50: int) -> dict[str, float]:
    content = "hi [[mock:lorem=2]]"
    chats = [await c.new_chat() for _ in range(50)]
    for chat in chats[:5]:  # warm-up: connections, caches, JIT-free but lazy imports
        await c.ttft_fabrikit(chat, content)
        await c.ttft_direct(content)
        await c.ttft_floor(content)
    fab1, direct1, floor1 = [], [], []
    for i in range(samples):
        # Interleaved so drift (other load on the machine) hits all three alike.
        fab1.append(await c.ttft_fabrikit(chats[i % 50], content))
        direct1.append(await c.ttft_direct(content))
        floor1.append(await c.ttft_floor(content))
    fab50 = await concurrent(50, lambda i: c.ttft_fabrikit(chats[i], content), rounds50)
    direct50 = await concurrent(50, lambda i: c.ttft_direct(content), rounds50)
    return {
        "direct_p50_ms_1": pct(direct1, 50),
        "fabrikit_p50_ms_1": pct(fab1, 50),
        "floor_p50_ms_1": pct(floor1, 50),
        "ttft_overhead_p50_ms_1": pct(fab1, 50) - pct(direct1, 50),
        "ttft_overhead_p99_ms_1": pct(fab1, 99) - pct(direct1, 99),
        "floor_overhead_p50_ms_1": pct(floor1, 50) - pct(direct1, 50),
        "floor_overhead_p99_ms_1": pct(floor1, 99) - pct(direct1, 99),
        "ttft_overhead_p50_ms_50": pct(fab50, 50) - pct(direct50, 50),
        "ttft_overhead_p99_ms_50": pct(fab50, 99) - pct(direct50, 99),
    }


async def disconnect_suite(c: Client, samples: int) -> dict[str, float]:
    chats = [await c.new_chat() for _ in range(samples)]
    times: list[float] = []

    async def disconnects() -> int:
        async with c.s.get(f"{c.mock}/_mock/stats") as r:
            return int((await r.json())["disconnects"])

    for chat in chats:
        before = await disconnects()
        url = f"{c.api}/mini-chat/v1/chats/{chat}/messages:stream"
        resp = await c.s.post(url, json={"content": "go [[mock:lorem=30000,latency=5]]"}, headers=TOKEN)
        assert resp.status == 200, await resp.text()
        buffered = b""
        async for chunk in resp.content.iter_any():
            buffered += chunk
            if buffered.count(DELTA) >= 3:
                break
        started = time.perf_counter()
        resp.close()  # drop the connection mid-stream
        while await disconnects() == before:  # noqa: ASYNC110 - polling another process's counter
            await asyncio.sleep(0.001)
        times.append((time.perf_counter() - started) * 1000)
    return {"disconnect_abort_p50_ms": pct(times, 50), "disconnect_abort_p99_ms": pct(times, 99)}


async def throughput_suite(c: Client, words: int) -> dict[str, float]:
    chat = await c.new_chat()
    url = f"{c.api}/mini-chat/v1/chats/{chat}/messages:stream"
    count = 0
    started = time.perf_counter()
    first: float | None = None
    async with c.s.post(url, json={"content": f"[[mock:lorem={words}]]"}, headers=TOKEN) as resp:
        async for chunk in resp.content.iter_any():
            n = chunk.count(DELTA)
            if n and first is None:
                first = time.perf_counter()
            count += n
    ended = time.perf_counter()
    return {"deltas": count, "deltas_per_second": count / (ended - (first or started))}


async def rss_suite(c: Client, pid: int, streams: int) -> dict[str, float]:
    # One chat per stream, and the warm-up round on chats of its own: a chat whose warm-up turn is still being
    # cancelled would answer 409 generation_in_progress.
    warm = [await c.new_chat() for _ in range(50)]
    chats = [await c.new_chat() for _ in range(streams)]
    content = "hold [[mock:lorem=400,latency=250]]"
    opened: list[aiohttp.ClientResponse] = []
    failed: list[str] = []

    async def open_stream(chat: str) -> None:
        url = f"{c.api}/mini-chat/v1/chats/{chat}/messages:stream"
        try:
            async with asyncio.timeout(120):
                resp = await c.s.post(url, json={"content": content}, headers=TOKEN)
                opened.append(resp)
                if resp.status != 200:
                    failed.append(str(resp.status))
                    return
                buffered = b""
                async for chunk in resp.content.iter_any():
                    buffered += chunk
                    if DELTA in buffered:
                        return
                failed.append("ended")
        except TimeoutError:
            failed.append("timeout")

    # Warm-up round so allocator pools and lazy state exist before the baseline.
    await asyncio.gather(*(open_stream(chat) for chat in warm))
    for resp in opened:
        resp.close()
    opened.clear()
    failed.clear()
    await asyncio.sleep(2.0)
    base = rss_kb(pid)
    started = time.perf_counter()
    await asyncio.gather(*(open_stream(chat) for chat in chats))
    open_seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    loaded = rss_kb(pid)
    for resp in opened:
        resp.close()
    live = streams - len(failed)
    if failed:
        print(f"rss: {len(failed)} of {streams} streams did not open: {sorted(set(failed))}", flush=True)
    return {
        "rss_streams_open": live,
        "rss_open_seconds": open_seconds,
        "rss_base_kb": base,
        "rss_open_kb": loaded,
        "rss_kb_per_stream": (loaded - base) / max(live, 1),
    }


async def run(quick: bool) -> dict[str, Any]:
    mock_port, api_port, floor_port = free_port(), free_port(), free_port()
    with (
        tempfile.TemporaryDirectory(prefix="fabrikit-bench-") as home,
        child("-m", "fabrikit.modules.mock_llm", "--port", str(mock_port)),
        child(SCRIPT, "--serve", str(api_port), str(mock_port), home) as server,
        child(SCRIPT, "--floor", str(floor_port), str(mock_port), home),
    ):
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            c = Client(
                session,
                f"http://127.0.0.1:{api_port}",
                f"http://127.0.0.1:{mock_port}",
                f"http://127.0.0.1:{floor_port}",
            )
            figures: dict[str, Any] = {}
            figures.update(await ttft_suite(c, 60 if quick else 300, 2 if quick else 8))
            figures.update(await disconnect_suite(c, 10 if quick else 40))
            figures.update(await throughput_suite(c, 30_000))
            figures.update(await rss_suite(c, server.pid, 100 if quick else 500))
    floor = max(figures["floor_overhead_p50_ms_1"], 0.05)
    figures["overhead_vs_floor_x"] = figures["ttft_overhead_p50_ms_1"] / floor
    return figures


def report(figures: dict[str, Any]) -> dict[str, Any]:
    print(f"{'figure':<28} {'value':>12} {'target':>10} ok")
    checks = {
        "ttft_overhead_p50_ms_1": figures["ttft_overhead_p50_ms_1"] <= TARGETS["ttft_overhead_p50_ms_1"],
        "ttft_overhead_p99_ms_1": figures["ttft_overhead_p99_ms_1"] <= TARGETS["ttft_overhead_p99_ms_1"],
        "ttft_overhead_p99_ms_50": figures["ttft_overhead_p99_ms_50"] <= TARGETS["ttft_overhead_p99_ms_50"],
        "overhead_vs_floor_x": figures["overhead_vs_floor_x"] <= TARGETS["overhead_vs_floor_x"],
        "disconnect_abort_p99_ms": figures["disconnect_abort_p99_ms"] <= TARGETS["disconnect_abort_p99_ms"],
        "deltas_per_second": figures["deltas_per_second"] >= TARGETS["deltas_per_second"],
        "rss_kb_per_stream": figures["rss_kb_per_stream"] <= TARGETS["rss_kb_per_stream"],
    }
    for key, value in figures.items():
        target = TARGETS.get(key)
        ok = checks.get(key)
        shown = "" if target is None else f"{target:g}"
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{key:<28} {value:>12.2f} {shown:>10} {mark}")
    return {
        "bench": "streaming",
        "metric": "ttft_overhead_p50_ms_1",
        "value": round(figures["ttft_overhead_p50_ms_1"], 3),
        "unit": "ms",
        "target": TARGETS["ttft_overhead_p50_ms_1"],
        "ok": checks["ttft_overhead_p50_ms_1"],
        **{k: round(float(v), 3) for k, v in figures.items() if k != "ttft_overhead_p50_ms_1"},
        "checks": checks,
        "all_ok": all(checks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    parser.add_argument("--serve", nargs=3, metavar=("API_PORT", "MOCK_PORT", "HOME"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=3, metavar=("PORT", "MOCK_PORT", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_fabrikit(int(args.serve[0]), int(args.serve[1]), args.serve[2]))
        return
    if args.floor:
        asyncio.run(serve_floor(int(args.floor[0]), int(args.floor[1]), args.floor[2]))
        return
    figures = asyncio.run(run(args.quick))
    print(json.dumps(report(figures)))


if __name__ == "__main__":
    main()
