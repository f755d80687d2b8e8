"""Tenant hierarchy end to end with the static-tenants plugin (G-5.2, G-5.3, G-21 "Shadowing, visibility"):
the root provisions, descendants proxy through it; a descendant's own enabled upstream shadows the root's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from fabrikit.modules.oagw.sdk import APIKEY_AUTH_ID, HTTP_PROTOCOL_ID
from tests.oagw_engine.harness import SECRET_VALUE
from tests.oagw_engine.upstreams import Upstreams, echoed, header_of

from .harness import CHILD, GRANDCHILD, ROOT, bearer, gaps_runtime

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def ups() -> AsyncIterator[Upstreams]:
    async with Upstreams() as servers:
        yield servers


def apikey(sharing: str) -> dict[str, Any]:
    return {
        "type": APIKEY_AUTH_ID,
        "sharing": sharing,
        "config": {"header": "x-api-key", "secret_ref": "cred://api-key"},
    }


async def provision(
    http: httpx.AsyncClient, ups: Upstreams, tenant: UUID, alias: str, owner: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "server": {"endpoints": [{"host": "127.0.0.1", "scheme": "http", "port": ups.port}]},
        "protocol": HTTP_PROTOCOL_ID,
        "alias": alias,
        "headers": {"request": {"set": {"x-owner": owner}}},
        **extra,
    }
    resp = await http.post("/oagw/v1/upstreams", json=body, headers=bearer(tenant))
    assert resp.status_code == 201, resp.text
    upstream = resp.json()
    route = {"upstream_id": upstream["id"], "match": {"http": {"methods": ["GET"], "path": "/echo"}}}
    resp = await http.post("/oagw/v1/routes", json=route, headers=bearer(tenant))
    assert resp.status_code == 201, resp.text
    return upstream


async def proxied(http: httpx.AsyncClient, tenant: UUID, alias: str) -> httpx.Response:
    return await http.get(f"/oagw/v1/proxy/{alias}/echo", headers=bearer(tenant))


def owner_of(resp: httpx.Response) -> str | None:
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-oagw-error-source"] == "upstream"
    return header_of(echoed(resp.content), "x-owner")


async def test_descendants_resolve_the_roots_shared_upstream(ups: Upstreams) -> None:
    async with gaps_runtime(tenant_tree=True) as h:
        await provision(h.http, ups, ROOT, "llm", "root", auth=apikey("inherit"))
        for tenant in (ROOT, CHILD, GRANDCHILD):
            resp = await proxied(h.http, tenant, "llm")
            assert owner_of(resp) == "root"
            assert header_of(echoed(resp.content), "x-api-key") == SECRET_VALUE
        # Management still shows each tenant only its own rows (G-5.1).
        listed = await h.http.get("/oagw/v1/upstreams", headers=bearer(CHILD))
        assert listed.json() == []


async def test_own_enabled_upstream_shadows_the_ancestors(ups: Upstreams) -> None:
    async with gaps_runtime(tenant_tree=True) as h:
        await provision(h.http, ups, ROOT, "llm", "root", auth=apikey("inherit"))
        assert owner_of(await proxied(h.http, CHILD, "llm")) == "root"
        child = await provision(h.http, ups, CHILD, "llm", "child")
        # The local write is visible to the very next request (G-6.3).
        assert owner_of(await proxied(h.http, CHILD, "llm")) == "child"
        assert owner_of(await proxied(h.http, GRANDCHILD, "llm")) == "root"  # child's is private
        assert owner_of(await proxied(h.http, ROOT, "llm")) == "root"
        # The shadowing upstream inherits the root's shared (non-enforced) auth unless it has its own (G-5.3).
        assert header_of(echoed((await proxied(h.http, CHILD, "llm")).content), "x-api-key") == SECRET_VALUE

        resp = await h.http.delete(f"/oagw/v1/upstreams/{child['id']}", headers=bearer(CHILD))
        assert resp.status_code == 204
        assert owner_of(await proxied(h.http, CHILD, "llm")) == "root"


async def test_only_disabled_matches_answer_503(ups: Upstreams) -> None:
    async with gaps_runtime(tenant_tree=True) as h:
        await provision(h.http, ups, CHILD, "solo", "child", enabled=False)
        resp = await proxied(h.http, CHILD, "solo")
        assert resp.status_code == 503
        assert resp.json()["code"] == "routing_upstream_disabled"
        assert resp.headers["x-oagw-error-source"] == "gateway"
        # A disabled shared ancestor upstream is a disabled match for descendants too.
        await provision(h.http, ups, ROOT, "old", "root", enabled=False, auth=apikey("inherit"))
        assert (await proxied(h.http, GRANDCHILD, "old")).status_code == 503
        # A disabled own upstream does not hide an enabled shared ancestor: the nearest *enabled* wins.
        await provision(h.http, ups, ROOT, "llm", "root", auth=apikey("enforce"))
        await provision(h.http, ups, CHILD, "llm", "child", enabled=False)
        assert owner_of(await proxied(h.http, CHILD, "llm")) == "root"


async def test_ancestor_upstream_with_only_private_blocks_is_invisible(ups: Upstreams) -> None:
    async with gaps_runtime(tenant_tree=True) as h:
        rate_limit = {"sustained": {"rate": 100}, "sharing": "private"}
        await provision(h.http, ups, ROOT, "hidden", "root", auth=apikey("private"), rate_limit=rate_limit)
        assert owner_of(await proxied(h.http, ROOT, "hidden")) == "root"
        for tenant in (CHILD, GRANDCHILD):
            resp = await proxied(h.http, tenant, "hidden")
            assert resp.status_code == 404
            assert resp.json()["code"] == "resource_not_found"
        # No sharing-capable block at all is just as private.
        await provision(h.http, ups, ROOT, "bare", "root")
        assert (await proxied(h.http, CHILD, "bare")).status_code == 404


async def test_dry_run_resolution_reports_the_effective_upstream(ups: Upstreams) -> None:
    from fabrikit.modules.oagw.sdk import OagwClient

    from .harness import ctx_of

    async with gaps_runtime(tenant_tree=True) as h:
        root = await provision(h.http, ups, ROOT, "llm", "root", auth=apikey("enforce"), tags=["r"])
        child = await provision(h.http, ups, CHILD, "llm", "child", tags=["c"], auth=apikey("private"))
        client = h.hub.get(OagwClient)  # type: ignore[type-abstract]
        target = await client.resolve_proxy_target(ctx_of(GRANDCHILD), "LLM", "GET", "/echo")
        assert target.upstream.id == root["id"]
        target = await client.resolve_proxy_target(ctx_of(CHILD), "llm", "get", "/echo/x")
        assert target.upstream.id == child["id"]
        assert target.upstream.auth is not None
        assert target.upstream.auth.sharing == "enforce"  # sticky
        assert sorted(target.upstream.tags) == ["c", "r"]
