"""oagw over real sockets: caller → api-gateway (uvicorn) → oagw → loopback upstream (G-10, G-11, G-18)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    UPSTREAM_TYPE_ID,
)
from tests.oagw_engine.harness import AUTH, SECRET_VALUE, oagw_runtime
from tests.oagw_engine.upstreams import Upstreams, header_of

pytestmark = pytest.mark.timeout(60)
PROBLEM = "application/problem+json"


@pytest.fixture
async def ups() -> AsyncIterator[Upstreams]:
    async with Upstreams() as servers:
        yield servers


def upstream_body(ups: Upstreams, alias: str = "echo", **extra: Any) -> dict[str, Any]:
    return {
        "server": {"endpoints": [{"host": "127.0.0.1", "scheme": "http", "port": ups.port}]},
        "protocol": HTTP_PROTOCOL_ID,
        "alias": alias,
        **extra,
    }


async def create(
    http: httpx.AsyncClient, ups: Upstreams, *, route: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    resp = await http.post("/oagw/v1/upstreams", json=upstream_body(ups, **extra), headers=AUTH)
    assert resp.status_code == 201, resp.text
    upstream = resp.json()
    match = {"methods": ["GET", "POST"], "path": "/", **(route or {})}
    resp = await http.post(
        "/oagw/v1/routes", json={"upstream_id": upstream["id"], "match": {"http": match}}, headers=AUTH
    )
    assert resp.status_code == 201, resp.text
    return upstream


async def test_management_crud_and_problem_json(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        http = h.http
        upstream = await create(http, ups, tags=["a"])
        assert upstream["id"].startswith(UPSTREAM_TYPE_ID)
        got = await http.get(f"/oagw/v1/upstreams/{upstream['id']}", headers=AUTH)
        assert got.status_code == 200
        assert got.json()["alias"] == "echo"

        missing = await http.post("/oagw/v1/upstreams", json={"protocol": HTTP_PROTOCOL_ID}, headers=AUTH)
        assert missing.status_code == 422
        assert missing.headers["content-type"].startswith(PROBLEM)
        malformed = await http.post(
            "/oagw/v1/upstreams", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
        )
        assert malformed.status_code == 422
        bad_id = await http.get("/oagw/v1/upstreams/not-a-gts-id", headers=AUTH)
        assert bad_id.status_code == 400
        assert bad_id.json()["code"] == "validation_error"
        unknown = await http.get(
            f"/oagw/v1/upstreams/{UPSTREAM_TYPE_ID}00000000-0000-4000-8000-000000000000", headers=AUTH
        )
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "resource_not_found"
        unauth = await http.get("/oagw/v1/upstreams")
        assert unauth.status_code == 401
        assert (await http.get("/oagw/v1/upstreams?limit=0", headers=AUTH)).status_code == 400
        assert (await http.get("/oagw/v1/upstreams?limit=101", headers=AUTH)).status_code == 400

        body = upstream_body(ups, enabled=True, tags=["b"])
        updated = await http.put(f"/oagw/v1/upstreams/{upstream['id']}", json=body, headers=AUTH)
        assert updated.status_code == 200
        assert updated.json()["id"] == upstream["id"]
        assert updated.json()["tags"] == ["b"]
        conflict = await http.post("/oagw/v1/upstreams", json=upstream_body(ups), headers=AUTH)
        assert conflict.status_code == 409

        routes = await http.get(f"/oagw/v1/routes?upstream_id={upstream['id']}", headers=AUTH)
        assert routes.status_code == 200
        assert len(routes.json()) == 1
        route = routes.json()[0]
        put_route = await http.put(
            f"/oagw/v1/routes/{route['id']}",
            json={
                "match": {"http": {"methods": ["GET"], "path": "/v2"}},
                "tags": [],
                "enabled": True,
                "priority": 1,
            },
            headers=AUTH,
        )
        assert put_route.status_code == 200
        assert put_route.json()["priority"] == 1
        assert (await http.delete(f"/oagw/v1/routes/{route['id']}", headers=AUTH)).status_code == 204
        assert (await http.get(f"/oagw/v1/routes/{route['id']}", headers=AUTH)).status_code == 404
        assert (await http.delete(f"/oagw/v1/upstreams/{upstream['id']}", headers=AUTH)).status_code == 204
        assert (await http.get(f"/oagw/v1/upstreams/{upstream['id']}", headers=AUTH)).status_code == 404


async def test_paging_is_sorted_by_id(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        for i in range(3):
            await create(h.http, ups, alias=f"a{i}")
        page = (await h.http.get("/oagw/v1/upstreams?limit=2", headers=AUTH)).json()
        rest = (await h.http.get("/oagw/v1/upstreams?limit=2&offset=2", headers=AUTH)).json()
        ids = [u["id"] for u in page + rest]
        assert len(ids) == 3
        assert ids == sorted(ids)


async def test_proxy_round_trip_strips_caller_credentials(ups: Upstreams) -> None:
    auth = {
        "type": "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1",
        "config": {"header": "authorization", "prefix": "Bearer ", "secret_ref": "cred://api-key"},
    }
    async with oagw_runtime(ups) as h:
        await create(h.http, ups, auth=auth, route={"query_allowlist": ["q"]})
        resp = await h.http.post(
            "/oagw/v1/proxy/echo/echo/v1/chat?q=a%20b",
            content=b'{"x": 1}',
            headers={**AUTH, "Cookie": "sid=secret", "Content-Type": "application/json"},
        )
        assert resp.status_code == 200
        assert resp.headers["x-oagw-error-source"] == "upstream"
        seen = resp.json()
        assert seen["raw_path"] == "/echo/v1/chat?q=a%20b"
        assert header_of(seen, "authorization") == f"Bearer {SECRET_VALUE}"
        assert header_of(seen, "cookie") is None


async def test_upstream_500_passes_through_and_refused_is_gateway_503(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"private_network_allowlist": ["127.0.0.1"]}) as h:
        await create(h.http, ups)
        failed = await h.http.get("/oagw/v1/proxy/echo/fail", headers=AUTH)
        assert failed.status_code == 500
        assert failed.headers["x-oagw-error-source"] == "upstream"
        assert failed.json() == {"error": "upstream exploded"}

        body = upstream_body(ups, alias="dead")
        body["server"]["endpoints"][0]["port"] = _closed_port()
        dead = (await h.http.post("/oagw/v1/upstreams", json=body, headers=AUTH)).json()
        await h.http.post(
            "/oagw/v1/routes",
            json={
                "upstream_id": dead["id"],
                "match": {"http": {"methods": ["GET"], "path": "/", "query_allowlist": ["secret"]}},
            },
            headers=AUTH,
        )
        refused = await h.http.get("/oagw/v1/proxy/dead/x?secret=1", headers=AUTH)
        assert refused.status_code == 503
        assert refused.headers["x-oagw-error-source"] == "gateway"
        problem = refused.json()
        assert problem["code"] == "link_unavailable"
        assert problem["type"].endswith("x.oagw.link.unavailable.v1")
        assert "secret" not in problem.get("instance", "")


async def test_rest_rate_limit_429_with_retry_after_and_headers_on_success(ups: Upstreams) -> None:
    limit = {"sustained": {"rate": 1, "window": "minute"}}
    async with oagw_runtime(ups) as h:
        await create(h.http, ups, rate_limit=limit)
        ok = await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)
        assert ok.status_code == 200
        assert "1" in ok.headers.get_list("x-ratelimit-limit")
        limited = await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["code"] == "rate_limit_exceeded"
        assert limited.headers["x-oagw-error-source"] == "gateway"


async def test_rest_sse_is_incremental(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await create(h.http, ups)
        async with h.http.stream(
            "GET", "/oagw/v1/proxy/echo/sse-gated", headers={**AUTH, "Accept": "text/event-stream"}
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            chunks = resp.aiter_raw()
            first = await anext(chunks)
            assert b'"i": 0' in first
            assert not ups.sse_release.is_set()
            ups.sse_release.set()
            rest = b"".join([c async for c in chunks])
        assert b"[DONE]" in rest


async def test_rest_client_disconnect_closes_upstream(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await create(h.http, ups)
        async with (
            httpx.AsyncClient(base_url=h.base_url) as other,
            other.stream("GET", "/oagw/v1/proxy/echo/hang", headers=AUTH) as resp,
        ):
            assert resp.status_code == 200
            async for _ in resp.aiter_raw():
                break
        await asyncio.wait_for(ups.disconnected.wait(), 10)


async def test_rest_idle_timeout_aborts_the_stream(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"streaming_idle_timeout_secs": 0.3}) as h:
        await create(h.http, ups)
        async with h.http.stream("GET", "/oagw/v1/proxy/echo/stall", headers=AUTH) as resp:
            assert resp.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                await drain(resp)


async def test_rest_content_length_checks(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"max_body_size_bytes": 8}) as h:
        await create(h.http, ups)
        too_big = await h.http.post("/oagw/v1/proxy/echo/echo", content=b"x" * 9, headers=AUTH)
        assert too_big.status_code == 413
        assert too_big.json()["code"] == "payload_too_large"

        async def streamed() -> AsyncIterator[bytes]:
            yield b"x" * 5
            yield b"y" * 5

        chunked = await h.http.post("/oagw/v1/proxy/echo/upload", content=streamed(), headers=AUTH)
        assert chunked.status_code == 413


async def test_create_proxy_update_proxy_delete(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        upstream = await create(h.http, ups)
        assert (await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)).status_code == 200
        body = upstream_body(ups, enabled=False, tags=[])
        assert (
            await h.http.put(f"/oagw/v1/upstreams/{upstream['id']}", json=body, headers=AUTH)
        ).status_code == 200
        disabled = await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)
        assert disabled.status_code == 503
        assert disabled.json()["code"] == "routing_upstream_disabled"
        await h.http.delete(f"/oagw/v1/upstreams/{upstream['id']}", headers=AUTH)
        gone = await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)
        assert gone.status_code == 404


async def drain(resp: httpx.Response) -> None:
    async for _ in resp.aiter_raw():
        pass


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
