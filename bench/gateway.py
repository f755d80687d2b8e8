"""P-6 gateway overhead: requests/s of a trivial authenticated GET through the full api-gateway chain versus the
same handler in a bare Litestar app, both on uvicorn with the same settings, measured in the same run.

Each server runs in its own process (one core each way: the load generator does not steal the server's loop).
The load generator keeps ``CONCURRENCY`` keep-alive connections busy with aiohttp until ``REQUESTS`` answers or
``MAX_SECONDS`` passed. Rounds alternate bare / gateway so that machine noise hits both alike; the best round of
each counts. Run: ``.venv/bin/python bench/gateway.py``. The last line is one JSON object for CI.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

CONCURRENCY = 20
# Rounds of about a second each: shorter ones let a lucky or unlucky scheduler slice decide the ratio.
REQUESTS = 10000
WARMUP = 500
MAX_SECONDS = 20.0
# The machine is shared and noisy: more rounds give the best-of statistic a fair chance on both sides.
ROUNDS = 5
TARGET = 0.7
PATH = "/bench/v1/hello"
HEADERS = {"Authorization": "Bearer bench-token"}


# ---------------------------------------------------------------- servers (child processes)
async def hello() -> dict[str, bool]:
    return {"ok": True}


def _uvicorn_config(app: Any, port: int) -> Any:
    import uvicorn

    # The settings of fabrikit's UvicornServer, so that only the chain differs.
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
    )


def serve_bare(port: int) -> None:
    import uvicorn
    from litestar import Litestar, get

    app = Litestar(route_handlers=[get(PATH)(hello)], openapi_config=None, logging_config=None, debug=False)
    asyncio.run(uvicorn.Server(_uvicorn_config(app, port)).serve())


def serve_gateway(port: int, access_log: bool) -> None:
    from litestar import get

    from fabrikit.kernel import Capability, Manifest, Module, ModuleContext
    from fabrikit.kernel.http import RateLimit, RestRegistrar, authenticated
    from fabrikit.kernel.logging import configure_logging
    from fabrikit.kernel.testing import RuntimeHarness
    from fabrikit.modules.api_gateway.module import ApiGateway
    from fabrikit.modules.authn_resolver.module import AuthnResolver
    from fabrikit.modules.types_registry.module import TypesRegistryModule
    from fabrikit.plugins.static_authn.plugin import DEFINITION

    class Bench(Module):
        manifest = Manifest("bench", "0.1.0", capabilities={Capability.REST})

        def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
            # Limits far above the offered load: the bucket and semaphore run, but never reject.
            opt = authenticated("bench.hello", rate_limit=RateLimit(10**9, 10**9, 10**6))
            rest.include(get(PATH, opt=opt)(hello), module=ctx.name)

    config = {
        "modules": {
            "types-registry": None,
            "authn-resolver": None,
            "bench": None,
            "api-gateway": {"config": {"bind_addr": f"127.0.0.1:{port}", "access_log": access_log}},
        },
        "plugins": {"static-authn": {"config": {"mode": "accept_all"}}},
        "logging": {"level": "info"},
    }

    # As `fabrikit run` does: JSON lines through the kernel's redacting pipeline (stdout is /dev/null here).
    configure_logging(level="info", format="json", stream=sys.stdout)

    async def run() -> None:
        async with RuntimeHarness(
            modules=[TypesRegistryModule, AuthnResolver, ApiGateway, Bench],
            plugins=[DEFINITION],
            config=config,
        ):
            await asyncio.Event().wait()

    asyncio.run(run())


def _child(kind: str, port: int) -> None:
    # Logs (the access log included) are rendered as in production but not shown.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if kind == "bare":
        serve_bare(port)
    else:
        serve_gateway(port, access_log=(kind == "gateway"))


# ---------------------------------------------------------------- load generator (this process)
@dataclass
class Result:
    kind: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float  # server CPU time per request (user + system), robust against a busy machine

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process used so far; Linux /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_up(session: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with session.get(url, headers=HEADERS) as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up")


async def _load(session: aiohttp.ClientSession, url: str, total: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    remaining = total
    started = time.perf_counter()
    deadline = started + MAX_SECONDS

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            t = time.perf_counter()
            async with session.get(url, headers=HEADERS) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, errors, time.perf_counter() - started


async def measure(kind: str) -> Result:
    port = _free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_child, args=(kind, port), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            await _wait_up(session, url)
            await _load(session, url, WARMUP)
            assert proc.pid is not None
            cpu0 = _cpu_seconds(proc.pid)
            latencies, errors, seconds = await _load(session, url, REQUESTS)
            cpu = _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.join(10)
    latencies.sort()
    return Result(
        kind,
        len(latencies),
        seconds,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
        errors,
        cpu / max(len(latencies), 1) * 1e6,
    )


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


async def main() -> None:
    kinds = ("bare", "gateway", "gateway-nolog")
    best: dict[str, Result] = {}
    all_results: dict[str, list[Result]] = {k: [] for k in kinds}
    print(
        f"{'server':<14} {'round':>5} {'requests':>8} {'seconds':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'cpu us/req':>10} {'errors':>6}"
    )
    for rnd in range(1, ROUNDS + 1):
        for kind in kinds:
            r = await measure(kind)
            print(
                f"{kind:<14} {rnd:>5} {r.requests:>8} {r.seconds:>8.2f} {r.rps:>8.0f} {r.p50_ms:>7.2f} "
                f"{r.p99_ms:>7.2f} {r.cpu_us:>10.0f} {r.errors:>6}",
                flush=True,
            )
            if r.errors:
                raise SystemExit(f"{kind}: {r.errors} requests failed")
            all_results[kind].append(r)
            if kind not in best or r.rps > best[kind].rps:
                best[kind] = r
    import uvicorn

    http = "httptools" if _has("httptools") else "h11"
    print(f"uvicorn {uvicorn.__version__}, HTTP parser {http} (both servers, 'auto' setting)")
    bare, gw, nolog = best["bare"], best["gateway"], best["gateway-nolog"]
    ratio = gw.rps / bare.rps
    added = gw.p50_ms - bare.p50_ms
    cpu = {k: min(r.cpu_us for r in all_results[k]) for k in kinds}
    print(
        f"server CPU per request (best round): bare {cpu['bare']:.0f} us, gateway {cpu['gateway']:.0f} us "
        f"(ratio {cpu['bare'] / cpu['gateway']:.2f}), gateway without access log {cpu['gateway-nolog']:.0f} us "
        f"(ratio {cpu['bare'] / cpu['gateway-nolog']:.2f})"
    )
    paired = [g.rps / b.rps for b, g in zip(all_results["bare"], all_results["gateway"], strict=True)]
    print(
        f"per-round ratio gateway/bare (back to back): {' '.join(f'{x:.2f}' for x in paired)}, "
        f"median {statistics.median(paired):.2f}"
    )
    print(
        f"best: bare {bare.rps:.0f} req/s, gateway {gw.rps:.0f} req/s (ratio {ratio:.2f}, target {TARGET}), "
        f"gateway without access log {nolog.rps:.0f} req/s (ratio {nolog.rps / bare.rps:.2f}); "
        f"added p50 {added:.2f} ms"
    )
    print(
        json.dumps(
            {
                "bench": "gateway",
                "metric": "rps_ratio_vs_bare_litestar",
                "value": round(ratio, 3),
                "unit": "ratio",
                "target": TARGET,
                "ok": ratio >= TARGET,
                "added_p50_ms": round(added, 3),
                "paired_median_ratio": round(statistics.median(paired), 3),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
