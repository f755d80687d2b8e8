"""P-6 gateway overhead: requests/s of a trivial authenticated GET through the full api-gateway chain versus the
same handler in a bare Litestar app, both on uvicorn with the same settings, measured in the same run.

Each server runs in its own process (the load generator does not share the server's loop); all three (bare,
gateway, gateway without its access log) are up together and take turns: ``CYCLES`` times, each gets a slice of
``SLICE`` requests over ``CONCURRENCY`` keep-alive aiohttp connections. The ratio is of the totals; the per-cycle
ratios show the spread. Run: ``.venv/bin/python bench/gateway.py``. The last line is one JSON object for CI.
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
from dataclasses import dataclass, field
from typing import Any

import aiohttp

CONCURRENCY = 20
WARMUP = 1000
# Slices of about a tenth of a second per server, taken in turns: the machine's speed drifts by a third from
# one second to the next (a shared host), so only fine-grained turns compare the servers fairly.
SLICE = 1000
CYCLES = 40
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
class Tally:
    """One server's slices, summed."""

    kind: str
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # server CPU seconds (user + system) during its slices
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    slice_rps: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


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

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            t = time.perf_counter()
            async with session.get(url, headers=HEADERS) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, errors, time.perf_counter() - started


class _Server:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.proc = multiprocessing.get_context("spawn").Process(
            target=_child, args=(kind, self.port), daemon=True
        )
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.proc.start()
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY))
        await _wait_up(self.session, self.url)
        await _load(self.session, self.url, WARMUP)

    async def slice(self, tally: Tally) -> float:
        """One slice of load; returns its requests/s."""
        assert self.session is not None
        assert self.proc.pid is not None
        cpu0 = _cpu_seconds(self.proc.pid)
        latencies, errors, seconds = await _load(self.session, self.url, SLICE)
        tally.cpu += _cpu_seconds(self.proc.pid) - cpu0
        tally.requests += len(latencies)
        tally.seconds += seconds
        tally.errors += errors
        tally.latencies += latencies
        tally.slice_rps.append(len(latencies) / seconds)
        return len(latencies) / seconds

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        self.proc.terminate()
        self.proc.join(10)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


async def main() -> None:
    import uvicorn

    kinds = ("bare", "gateway", "gateway-nolog")
    servers = [_Server(kind) for kind in kinds]
    tallies = {kind: Tally(kind) for kind in kinds}
    paired: list[float] = []
    try:
        for server in servers:
            await server.start()
        # All three servers are up together and take turns in short slices, so the machine's moods (another
        # tenant on the host, the scheduler's placement) hit each of them alike.
        for _ in range(CYCLES):
            rates = {server.kind: await server.slice(tallies[server.kind]) for server in servers}
            paired.append(rates["gateway"] / rates["bare"])
    finally:
        for server in servers:
            await server.stop()
    http = "httptools" if _has("httptools") else "h11"
    print(
        f"uvicorn {uvicorn.__version__}, HTTP parser {http} (both, 'auto' setting); {CYCLES} cycles of "
        f"{SLICE} requests per server, {CONCURRENCY} connections"
    )
    print(
        f"{'server':<14} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu us/req':>10} {'errors':>6}"
    )
    for t in tallies.values():
        print(
            f"{t.kind:<14} {t.requests:>8} {t.rps:>8.0f} {t.percentile_ms(0.5):>7.2f} {t.percentile_ms(0.99):>7.2f} "
            f"{t.cpu_us:>10.0f} {t.errors:>6}"
        )
        if t.errors:
            raise SystemExit(f"{t.kind}: {t.errors} requests failed")
    bare, gw, nolog = tallies["bare"], tallies["gateway"], tallies["gateway-nolog"]
    ratio = gw.rps / bare.rps
    added = gw.percentile_ms(0.5) - bare.percentile_ms(0.5)
    q = statistics.quantiles(paired, n=4)
    print(
        f"per-cycle ratio gateway/bare: median {statistics.median(paired):.2f}, quartiles {q[0]:.2f}-{q[2]:.2f}, "
        f"range {min(paired):.2f}-{max(paired):.2f}"
    )
    print(
        f"server CPU per request: bare {bare.cpu_us:.0f} us, gateway {gw.cpu_us:.0f} us "
        f"(ratio {bare.cpu_us / gw.cpu_us:.2f}), without access log {nolog.cpu_us:.0f} us "
        f"(ratio {bare.cpu_us / nolog.cpu_us:.2f})"
    )
    print(
        f"total: bare {bare.rps:.0f} req/s, gateway {gw.rps:.0f} req/s (ratio {ratio:.2f}, target {TARGET}), "
        f"without access log {nolog.rps:.0f} req/s (ratio {nolog.rps / bare.rps:.2f}); added p50 {added:.2f} ms"
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
                "cycle_median_ratio": round(statistics.median(paired), 3),
                "cpu_ratio": round(bare.cpu_us / gw.cpu_us, 3),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
