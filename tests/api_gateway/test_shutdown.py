"""Graceful shutdown (P-6.8): streams get their terminal event within drain_timeout_s, leftovers are cancelled,
new requests during the drain get 503 ``shutting_down``."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from fabrikit.kernel.http import RestHost
from tests.api_gateway.test_chain_order import assert_problem
from tests.support.gateway import AUTH, gateway, module_instance


async def _events(response: httpx.Response) -> list[str]:
    out = []
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            out.append(line[len("data: ") :])
    return out


async def test_open_sse_stream_gets_its_terminal_event_when_the_runtime_shuts_down() -> None:
    async with gateway(gw={"drain_timeout_s": 5}) as h:
        test = module_instance(h, "gw-test")
        async with (
            httpx.AsyncClient(base_url=h.base_url, timeout=10) as client,
            client.stream(
                "GET", "/gw-test/v1/stream", params={"ticks": 100000, "interval": 0.05}, headers=AUTH
            ) as r,
        ):
            assert r.status_code == 200
            lines = r.aiter_lines()
            first = await anext(line async for line in lines if line.startswith("data: "))
            assert first == "data: tick 0"
            shutdown = asyncio.ensure_future(h.runtime.shutdown())
            rest = [line async for line in lines if line.startswith("data: ")]
            await asyncio.wait_for(shutdown, 10)
        assert rest[-1] == "data: shutdown"  # the terminal event, then a clean end of the body
        assert test.stream_finally_ran
        assert not test.stream_cancelled


async def test_a_stream_ignoring_the_drain_is_cancelled_after_drain_timeout() -> None:
    async with gateway(gw={"drain_timeout_s": 0.5}) as h:
        test = module_instance(h, "gw-test")
        async with (
            httpx.AsyncClient(base_url=h.base_url, timeout=10) as client,
            client.stream("GET", "/gw-test/v1/stubborn", headers=AUTH) as r,
        ):
            lines = r.aiter_lines()
            assert await anext(line async for line in lines if line.startswith("data: ")) == "data: first"
            await asyncio.wait_for(h.runtime.shutdown(), 10)
            with contextlib.suppress(httpx.HTTPError):
                rest = [line async for line in lines if line.startswith("data: ")]
                assert "data: never" not in rest
        assert test.stream_cancelled
        assert test.stream_finally_ran


async def test_new_requests_during_the_drain_get_503_and_readyz_says_shutting_down() -> None:
    async with gateway() as h:
        host = h.hub.get(RestHost)  # type: ignore[type-abstract]
        assert host.is_ready()
        state = module_instance(h, "api-gateway").state
        state.draining = True  # step (1) of stop(), held open so that requests can arrive meanwhile
        try:
            assert not host.is_ready()
            r = await h.http.get("/gw-test/v1/whoami", headers=AUTH)
            body = assert_problem(r, 503, "shutting_down")
            assert body["trace_id"] == r.headers["x-request-id"]
            assert r.headers["retry-after"] == "1"
            assert r.headers["connection"] == "close"
            ready = await h.http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "shutting_down"}
            assert (await h.http.get("/healthz")).status_code == 200
        finally:
            state.draining = False
