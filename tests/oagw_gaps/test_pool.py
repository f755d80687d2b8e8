"""Endpoint pools (G-16.1, G-21 "Pool round-robin; X-OAGW-Target-Host selects, is not forwarded; unknown/malformed
→ 400"): two real upstreams on 127.0.0.1 and 127.0.0.2, the TCP health check, all down → 502."""

from __future__ import annotations

from typing import Any

import pytest

from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.oagw.sdk import HTTP_PROTOCOL_ID
from tests.oagw_engine.harness import AUTH

from .harness import gaps_runtime, oagw_module
from .servers import NamedServer, loopback_pool

pytestmark = pytest.mark.timeout(60)
HOSTS = ("127.0.0.1", "127.0.0.2")


def pool_body(servers: list[NamedServer], **extra: Any) -> dict[str, Any]:
    endpoints = [{"host": s.host, "scheme": "http", "port": s.port} for s in servers]
    return {"server": {"endpoints": endpoints}, "protocol": HTTP_PROTOCOL_ID, "alias": "pool", **extra}


async def create_pool(h: RuntimeHarness, servers: list[NamedServer]) -> dict[str, Any]:
    resp = await h.http.post("/oagw/v1/upstreams", json=pool_body(servers), headers=AUTH)
    assert resp.status_code == 201, resp.text
    upstream = resp.json()
    route = {"upstream_id": upstream["id"], "match": {"http": {"methods": ["GET"], "path": "/"}}}
    assert (await h.http.post("/oagw/v1/routes", json=route, headers=AUTH)).status_code == 201
    return upstream


async def names(h: RuntimeHarness, n: int, headers: dict[str, str] | None = None) -> list[str]:
    out = []
    for _ in range(n):
        resp = await h.http.get("/oagw/v1/proxy/pool/x", headers={**AUTH, **(headers or {})})
        assert resp.status_code == 200, resp.text
        out.append(resp.json()["name"])
    return out


async def test_round_robin_over_two_real_upstreams() -> None:
    async with loopback_pool(*HOSTS) as servers, gaps_runtime() as h:
        await create_pool(h, servers)
        seen = await names(h, 6)
        assert seen in (["s0", "s1"] * 3, ["s1", "s0"] * 3)
        assert [s.hits for s in servers] == [3, 3]


async def test_target_host_selects_and_is_not_forwarded() -> None:
    async with loopback_pool(*HOSTS) as servers, gaps_runtime() as h:
        await create_pool(h, servers)
        resp = await h.http.get("/oagw/v1/proxy/pool/x", headers={**AUTH, "X-OAGW-Target-Host": "127.0.0.2"})
        body = resp.json()
        assert body["name"] == "s1"
        assert body["target_host"] is None
        assert body["host"] == f"127.0.0.2:{servers[1].port}"
        assert await names(h, 3, {"X-OAGW-Target-Host": "127.0.0.1"}) == ["s0"] * 3
        for bad, code in (
            ("bad host!", "routing_invalid_target_host"),
            ("10.1.1.1", "routing_unknown_target_host"),
        ):
            resp = await h.http.get("/oagw/v1/proxy/pool/x", headers={**AUTH, "X-OAGW-Target-Host": bad})
            assert resp.status_code == 400
            assert resp.json()["code"] == code
            assert resp.headers["x-oagw-error-source"] == "gateway"


async def test_health_check_skips_down_endpoints_and_all_down_is_502() -> None:
    async with loopback_pool(*HOSTS) as servers, gaps_runtime() as h:
        upstream = await create_pool(h, servers)
        health = oagw_module(h).health
        assert health is not None
        await names(h, 2)  # the pool is in use, so the check watches it
        await health.check_now()
        assert sorted(await names(h, 2)) == ["s0", "s1"]

        await servers[1].stop()
        await health.check_now()
        assert await names(h, 4) == ["s0"] * 4

        await servers[0].stop()
        await health.check_now()
        resp = await h.http.get("/oagw/v1/proxy/pool/x", headers=AUTH)
        assert resp.status_code == 502
        assert resp.json()["code"] == "downstream_error"
        assert resp.headers["x-oagw-error-source"] == "gateway"

        await servers[1].start()
        await health.check_now()
        assert await names(h, 2) == ["s1", "s1"]

        # An update resets the pool: both endpoints are tried again until the next check says otherwise.
        body = {**pool_body(servers), "enabled": True, "tags": ["updated"]}
        resp = await h.http.put(f"/oagw/v1/upstreams/{upstream['id']}", json=body, headers=AUTH)
        assert resp.status_code == 200
        await servers[0].start()
        assert sorted(await names(h, 2)) == ["s0", "s1"]
