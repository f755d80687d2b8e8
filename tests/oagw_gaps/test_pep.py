"""PEP on management CRUD and on the proxy (G-10.2, G-10.3, G-12.1 step 1, G-21 "PEP deny → 403; PEP request
carries the tenant"); a non-integer ``Content-Length`` → 400 (G-11.3, G-17.6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel.security import DEFAULT_TENANT_ID
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    PROXY_TYPE_ID,
    ROUTE_TYPE_ID,
    UPSTREAM_TYPE_ID,
    ForbiddenError,
    ProxyRequest,
    ValidationError,
)
from tests.oagw_engine.harness import AUTH, CTX, client_of, provision
from tests.oagw_engine.upstreams import Upstreams

from .authz import RecordingAuthz, recording_authz_plugin
from .harness import gaps_runtime

pytestmark = pytest.mark.timeout(60)
FOREIGN = UUID("99999999-0000-4000-8000-000000000009")


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


def route_body(upstream_id: str) -> dict[str, Any]:
    return {"upstream_id": upstream_id, "match": {"http": {"methods": ["GET", "POST"], "path": "/"}}}


def assert_forbidden(resp: Any) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["code"] == "authz_forbidden"
    assert "test.denied" not in resp.text  # the PDP's reason is only logged


async def test_pep_denial_is_403_on_every_management_operation(ups: Upstreams) -> None:
    pdp = RecordingAuthz()
    async with gaps_runtime(authz=recording_authz_plugin(pdp)) as h:
        http = h.http
        up = (await http.post("/oagw/v1/upstreams", json=upstream_body(ups), headers=AUTH)).json()
        route = (await http.post("/oagw/v1/routes", json=route_body(up["id"]), headers=AUTH)).json()
        update = {**upstream_body(ups), "enabled": True, "tags": []}
        route_update = {"match": route["match"], "tags": [], "enabled": True, "priority": 0}
        calls = {
            (UPSTREAM_TYPE_ID, "create"): lambda: http.post(
                "/oagw/v1/upstreams", json=upstream_body(ups, "other"), headers=AUTH
            ),
            (UPSTREAM_TYPE_ID, "read"): lambda: http.get(f"/oagw/v1/upstreams/{up['id']}", headers=AUTH),
            (UPSTREAM_TYPE_ID, "update"): lambda: http.put(
                f"/oagw/v1/upstreams/{up['id']}", json=update, headers=AUTH
            ),
            (UPSTREAM_TYPE_ID, "delete"): lambda: http.delete(f"/oagw/v1/upstreams/{up['id']}", headers=AUTH),
            (ROUTE_TYPE_ID, "create"): lambda: http.post(
                "/oagw/v1/routes", json=route_body(up["id"]), headers=AUTH
            ),
            (ROUTE_TYPE_ID, "read"): lambda: http.get(f"/oagw/v1/routes/{route['id']}", headers=AUTH),
            (ROUTE_TYPE_ID, "update"): lambda: http.put(
                f"/oagw/v1/routes/{route['id']}", json=route_update, headers=AUTH
            ),
            (ROUTE_TYPE_ID, "delete"): lambda: http.delete(f"/oagw/v1/routes/{route['id']}", headers=AUTH),
        }
        for denied, call in calls.items():
            pdp.denied = {denied}
            assert_forbidden(await call())
        pdp.denied = {(UPSTREAM_TYPE_ID, "read"), (ROUTE_TYPE_ID, "read")}
        assert_forbidden(await http.get("/oagw/v1/upstreams", headers=AUTH))
        assert_forbidden(await http.get("/oagw/v1/routes", headers=AUTH))
        pdp.denied = set()
        # Nothing was changed by the refused calls.
        assert (await http.get(f"/oagw/v1/upstreams/{up['id']}", headers=AUTH)).json() == up
        assert len((await http.get("/oagw/v1/upstreams", headers=AUTH)).json()) == 1
        assert (await http.get(f"/oagw/v1/routes/{route['id']}", headers=AUTH)).json() == route


async def test_pep_denial_is_403_on_the_proxy_and_upstream_untouched(ups: Upstreams) -> None:
    pdp = RecordingAuthz()
    async with gaps_runtime(authz=recording_authz_plugin(pdp)) as h:
        await provision(h, ups)
        assert (await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)).status_code == 200
        seen = len(ups.requests)
        pdp.denied = {(PROXY_TYPE_ID, "invoke")}
        resp = await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)
        assert_forbidden(resp)
        assert resp.headers["x-oagw-error-source"] == "gateway"
        with pytest.raises(ForbiddenError):
            await client_of(h).proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/echo"))
        assert len(ups.requests) == seen


async def test_an_allow_for_a_foreign_tenant_is_a_denial(ups: Upstreams) -> None:
    pdp = RecordingAuthz()
    async with gaps_runtime(authz=recording_authz_plugin(pdp)) as h:
        await provision(h, ups)
        pdp.foreign_tenant = FOREIGN
        assert_forbidden(await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH))
        assert_forbidden(await h.http.get("/oagw/v1/upstreams", headers=AUTH))
        assert_forbidden(await h.http.post("/oagw/v1/upstreams", json=upstream_body(ups, "x"), headers=AUTH))


async def test_pep_requests_carry_the_callers_tenant(ups: Upstreams) -> None:
    pdp = RecordingAuthz()
    async with gaps_runtime(authz=recording_authz_plugin(pdp)) as h:
        await provision(h, ups)
        pdp.requests.clear()
        assert (await h.http.get("/oagw/v1/proxy/echo/echo", headers=AUTH)).status_code == 200
        assert (await h.http.get("/oagw/v1/upstreams", headers=AUTH)).status_code == 200
        seen = {(r.resource.type, r.action.name) for r in pdp.requests}
        assert {(PROXY_TYPE_ID, "invoke"), (UPSTREAM_TYPE_ID, "read")} <= seen
        for request in pdp.requests:
            assert request.subject.properties["tenant_id"] == str(DEFAULT_TENANT_ID)
            tenant_context = request.context.tenant_context
            assert tenant_context is not None
            assert tenant_context.root_id == DEFAULT_TENANT_ID
            assert tenant_context.mode == "root_only"
            assert "owner_tenant_id" in request.context.supported_properties


async def test_flagging_allow_private_network_needs_its_own_pep_action(ups: Upstreams) -> None:
    from fabrikit.modules.oagw.sdk import ALLOW_PRIVATE_NETWORK_ACTION

    pdp = RecordingAuthz()
    async with gaps_runtime(authz=recording_authz_plugin(pdp)) as h:
        pdp.denied = {(UPSTREAM_TYPE_ID, ALLOW_PRIVATE_NETWORK_ACTION)}
        flagged = upstream_body(ups, allow_private_network=True)
        assert_forbidden(await h.http.post("/oagw/v1/upstreams", json=flagged, headers=AUTH))
        assert (
            await h.http.post("/oagw/v1/upstreams", json=upstream_body(ups), headers=AUTH)
        ).status_code == 201


async def test_non_integer_content_length_is_400(ups: Upstreams) -> None:
    async with gaps_runtime() as h:
        await provision(h, ups)
        client = client_of(h)
        for bad in ("abc", "-1", "1.5", "5, 5", ""):
            req = ProxyRequest(
                method="POST", alias="echo", path="/echo", headers=[("Content-Length", bad)], body=b"hello"
            )
            with pytest.raises(ValidationError) as info:
                await client.proxy_request(CTX, req)
            assert info.value.status == 400
        seen = len(ups.requests)
        host, port = h.base_url.removeprefix("http://").split(":")
        for raw in (b"abc", b"12x"):
            status = await raw_post(host, int(port), raw)
            assert status == 400
        assert len(ups.requests) == seen


async def raw_post(host: str, port: int, content_length: bytes) -> int:
    """Sends a request no HTTP client library would produce: a malformed ``Content-Length``."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            b"POST /oagw/v1/proxy/echo/echo HTTP/1.1\r\nHost: x\r\n"
            + b"Authorization: "
            + AUTH["Authorization"].encode()
            + b"\r\nContent-Length: "
            + content_length
            + b"\r\nConnection: close\r\n\r\nhello"
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        return int(status_line.split()[1])
    finally:
        writer.close()
