"""``storage: db`` end to end (G-6.2, G-6.3): two runtimes ("processes") share one database; writes persist across
restarts; another process's write shows once its cache entry expires (``config_cache_ttl_secs``), a local write at
once. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.oagw.sdk import ConflictError, OagwClient, ProxyRequest, UpstreamUpdate
from tests.kernel.db.conftest import _admin, pg_dsn, pg_unreachable, with_database
from tests.oagw_engine.harness import CTX, route_spec, upstream_spec
from tests.oagw_engine.upstreams import Upstreams

from .harness import gaps_runtime

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The ``modules.oagw.database`` block of every runtime in the test (a fresh PostgreSQL database each)."""
    if request.param == "sqlite":
        yield {"path": str(tmp_path / "shared" / "oagw.sqlite")}
        return
    admin = pg_dsn()
    name = f"fabrikit_oagw_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pg_unreachable(f"{type(exc).__name__}: {exc}")
    yield {"dsn": with_database(admin, name), "pool": {"max_size": 4}}
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def process(database: dict[str, Any], tmp_path: Path, ttl: float, n: int) -> RuntimeHarness:
    home = tmp_path / f"home{n}"
    home.mkdir(exist_ok=True)
    return gaps_runtime(
        oagw={"storage": "db", "config_cache_ttl_secs": ttl}, oagw_database=database, home=str(home)
    )


def client_of(h: RuntimeHarness) -> OagwClient:
    return h.hub.get(OagwClient)  # type: ignore[type-abstract]


async def status_of(h: RuntimeHarness) -> int:
    try:
        async with await client_of(h).proxy_request(
            CTX, ProxyRequest(method="GET", alias="echo", path="/echo")
        ) as r:
            await r.read()
            return r.status
    except Exception as exc:
        return int(getattr(exc, "status", 0))


def disabled(spec: Any) -> UpstreamUpdate:
    return UpstreamUpdate(server=spec.server, protocol=spec.protocol, enabled=False, tags=[], alias="echo")


async def test_rows_persist_across_restarts(database: dict[str, Any], tmp_path: Path) -> None:
    async with Upstreams() as ups:
        async with process(database, tmp_path, 5, 1) as a:
            upstream = await client_of(a).create_upstream(CTX, upstream_spec(ups))
            route = await client_of(a).create_route(CTX, route_spec(upstream, "/echo", ("GET",)))
            assert await status_of(a) == 200
        async with process(database, tmp_path, 5, 2) as b:
            client = client_of(b)
            assert await client.get_upstream(CTX, upstream.id) == upstream
            assert await client.list_routes(CTX, upstream_id=upstream.id) == [route]
            assert await status_of(b) == 200
            resp = await b.http.get("/oagw/v1/upstreams", headers={"Authorization": "Bearer x"})
            assert [u["id"] for u in resp.json()] == [upstream.id]
            await client.delete_upstream(CTX, upstream.id)
            assert await client.list_routes(CTX) == []
            assert await status_of(b) == 404


async def test_other_process_writes_converge_with_ttl_zero(database: dict[str, Any], tmp_path: Path) -> None:
    async with (
        Upstreams() as ups,
        process(database, tmp_path, 0, 1) as a,
        process(database, tmp_path, 0, 2) as b,
    ):
        spec = upstream_spec(ups)
        upstream = await client_of(a).create_upstream(CTX, spec)
        await client_of(a).create_route(CTX, route_spec(upstream, "/echo", ("GET",)))
        assert await status_of(b) == 200
        await client_of(a).update_upstream(CTX, upstream.id, disabled(spec))
        assert await status_of(b) == 503
        await client_of(a).delete_upstream(CTX, upstream.id)
        assert await status_of(b) == 404


async def test_cache_bounds_staleness_and_local_writes_invalidate(
    database: dict[str, Any], tmp_path: Path
) -> None:
    async with (
        Upstreams() as ups,
        process(database, tmp_path, 3600, 1) as a,
        process(database, tmp_path, 3600, 2) as b,
    ):
        spec = upstream_spec(ups)
        upstream = await client_of(a).create_upstream(CTX, spec)
        await client_of(a).create_route(CTX, route_spec(upstream, "/echo", ("GET",)))
        assert await status_of(b) == 200
        await client_of(a).update_upstream(CTX, upstream.id, disabled(spec))
        assert await status_of(a) == 503  # the writer sees its own write at once
        assert await status_of(b) == 200  # the other process serves its cached entry until the TTL ends
        await client_of(b).create_upstream(CTX, upstream_spec(ups, alias="unrelated"))
        assert await status_of(b) == 503  # any local write drops the cache
        with pytest.raises(ConflictError):  # UNIQUE(tenant_id, alias) across processes
            await client_of(b).create_upstream(CTX, spec)
