"""G-16: what oagw costs. (a) Added latency per proxied request (in-process ``OagwClient.proxy_request``) versus a
direct aiohttp call to the same loopback upstream, p50/p99 (target p50 added <= 1 ms); (b) SSE pass-through
events/s through oagw versus direct from the same upstream (target ratio >= 0.8).

Run: ``.venv/bin/python bench/oagw.py``. The last line is one JSON object for CI.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.oagw.module import Oagw
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    Endpoint,
    HttpMatch,
    OagwClient,
    ProxyRequest,
    RouteMatch,
    RouteSpec,
    Server,
    UpstreamSpec,
)
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE

REQUESTS = 2000
WARMUP = 200
SSE_EVENTS = 100_000
SSE_RUNS = 3
TARGET_RATIO = 0.8
TARGET_ADDED_P50_MS = 1.0
CTX = SecurityContext(subject_id=DEFAULT_SUBJECT_ID, subject_tenant_id=DEFAULT_TENANT_ID)
_EVENT = b'data: {"choices":[{"delta":{"content":"lorem "}}]}\n\n'


async def ping(request: web.Request) -> web.Response:
    return web.Response(body=b'{"ok":true}', content_type="application/json")


async def sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    batch = _EVENT * 100
    for _ in range(SSE_EVENTS // 100):
        await response.write(batch)
    await response.write_eof()
    return response


async def start_upstream() -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_get("/sse", sse)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def runtime(port: int) -> RuntimeHarness:
    config: dict[str, Any] = {
        "modules": {
            "api-gateway": {"config": {"bind_addr": "127.0.0.1:0"}},
            "types-registry": None,
            "authn-resolver": None,
            "authz-resolver": None,
            "tenant-resolver": None,
            "credstore": None,
            "oagw": {
                "config": {"allow_http_upstream": True, "private_network_allowlist": [f"127.0.0.1:{port}"]}
            },
        },
        "logging": {"level": "warning"},
    }
    return RuntimeHarness(
        modules=[
            TypesRegistryModule,
            AuthnResolver,
            ApiGateway,
            AuthzResolver,
            TenantResolver,
            CredStore,
            Oagw,
        ],
        plugins=[STATIC_AUTHN, STATIC_AUTHZ, STATIC_CREDSTORE, SINGLE_TENANT],
        config=config,
    )


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(
    session: aiohttp.ClientSession, client: OagwClient, base: str
) -> tuple[list[float], list[float]]:
    direct: list[float] = []
    proxied: list[float] = []
    for i in range(WARMUP + REQUESTS):
        # Interleave so both paths see the same machine load.
        t0 = time.perf_counter()
        async with session.get(base + "/ping") as resp:
            await resp.read()
        t1 = time.perf_counter()
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias="bench", path="/ping")
        ) as r:
            await r.read()
        t2 = time.perf_counter()
        if i >= WARMUP:
            direct.append((t1 - t0) * 1000)
            proxied.append((t2 - t1) * 1000)
    return direct, proxied


def count_events(pending: bytes, chunk: bytes) -> tuple[int, bytes]:
    data = pending + chunk
    n = data.count(b"\n\n")
    return n, data[data.rfind(b"\n\n") + 2 :] if n else data


async def sse_direct(session: aiohttp.ClientSession, base: str) -> float:
    events, pending = 0, b""
    t0 = time.perf_counter()
    async with session.get(base + "/sse") as resp:
        async for chunk in resp.content.iter_any():
            n, pending = count_events(pending, chunk)
            events += n
    assert events == SSE_EVENTS, events
    return events / (time.perf_counter() - t0)


async def sse_proxied(client: OagwClient) -> float:
    events, pending = 0, b""
    t0 = time.perf_counter()
    resp = await client.proxy_request(CTX, ProxyRequest(method="GET", alias="bench", path="/sse"))
    async for chunk in resp.iter_bytes():
        n, pending = count_events(pending, chunk)
        events += n
    assert events == SSE_EVENTS, events
    return events / (time.perf_counter() - t0)


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    runner, port = await start_upstream()
    base = f"http://127.0.0.1:{port}"
    try:
        async with runtime(port) as h, aiohttp.ClientSession() as session:
            structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
            client: OagwClient = h.hub.get(OagwClient)  # type: ignore[type-abstract]
            upstream = await client.create_upstream(
                CTX,
                UpstreamSpec(
                    server=Server(endpoints=[Endpoint(host="127.0.0.1", scheme="http", port=port)]),
                    protocol=HTTP_PROTOCOL_ID,
                    alias="bench",
                ),
            )
            await client.create_route(
                CTX,
                RouteSpec(
                    upstream_id=upstream.id, match=RouteMatch(http=HttpMatch(methods=["GET"], path="/"))
                ),
            )
            direct, proxied = await latency(session, client, base)
            direct_rates = [await sse_direct(session, base) for _ in range(SSE_RUNS)]
            proxied_rates = [await sse_proxied(client) for _ in range(SSE_RUNS)]
    finally:
        await runner.cleanup()

    d50, d99 = quantile(direct, 0.5), quantile(direct, 0.99)
    p50, p99 = quantile(proxied, 0.5), quantile(proxied, 0.99)
    added_p50, added_p99 = p50 - d50, p99 - d99
    best_direct, best_proxied = max(direct_rates), max(proxied_rates)
    ratio = best_proxied / best_direct
    print(f"{'measure':<28} {'direct':>12} {'via oagw':>12} {'added/ratio':>12}")
    print(f"{'latency p50 (ms)':<28} {d50:>12.3f} {p50:>12.3f} {added_p50:>12.3f}")
    print(f"{'latency p99 (ms)':<28} {d99:>12.3f} {p99:>12.3f} {added_p99:>12.3f}")
    print(f"{'latency mean (ms)':<28} {statistics.mean(direct):>12.3f} {statistics.mean(proxied):>12.3f}")
    print(f"{'SSE events/s (best of 3)':<28} {best_direct:>12.0f} {best_proxied:>12.0f} {ratio:>12.3f}")
    ok = ratio >= TARGET_RATIO and added_p50 <= TARGET_ADDED_P50_MS
    print(
        json.dumps(
            {
                "bench": "oagw",
                "metric": "sse_ratio",
                "value": round(ratio, 3),
                "unit": "ratio",
                "target": TARGET_RATIO,
                "ok": ok,
                "added_p50_ms": round(added_p50, 3),
                "added_p99_ms": round(added_p99, 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
