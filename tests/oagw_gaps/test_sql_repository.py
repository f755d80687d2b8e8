"""The storage contract (G-6.1, G-6.2) on the in-memory, SQLite and PostgreSQL repositories alike:
``UNIQUE(tenant_id, alias)`` → 409, tenant scoping, id order and paging, full round trip of nested blocks, the
route cascade of an upstream delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import msgspec
import pytest

from fabrikit.kernel.db import Database, open_database, resolve_db_settings, run_migrations
from fabrikit.modules.oagw.domain.repository import (
    InMemoryRouteRepository,
    InMemoryUpstreamRepository,
    RouteRepository,
    UpstreamRepository,
)
from fabrikit.modules.oagw.domain.validation import build_route, build_upstream
from fabrikit.modules.oagw.infra.sql_repository import SqlRouteRepository, SqlUpstreamRepository
from fabrikit.modules.oagw.infra.tables import MIGRATIONS
from fabrikit.modules.oagw.sdk import (
    APIKEY_AUTH_ID,
    HTTP_PROTOCOL_ID,
    AuthConfig,
    ConflictError,
    CorsConfig,
    Endpoint,
    HeadersConfig,
    HttpMatch,
    NotFoundError,
    PluginItem,
    PluginsConfig,
    RateLimitConfig,
    RequestHeaderRules,
    Route,
    RouteMatch,
    RouteSpec,
    Server,
    SustainedRate,
    Upstream,
    UpstreamSpec,
)

T1 = UUID("20000000-0000-4000-8000-000000000001")
T2 = UUID("20000000-0000-4000-8000-000000000002")


def upstream(tenant: UUID, alias: str, **extra: object) -> Upstream:
    spec = UpstreamSpec(
        server=Server(endpoints=[Endpoint(host="203.0.113.7")]),
        protocol=HTTP_PROTOCOL_ID,
        alias=alias,
        **extra,  # type: ignore[arg-type]
    )
    return build_upstream(spec, tenant_id=tenant)


def full_upstream(tenant: UUID) -> Upstream:
    return upstream(
        tenant,
        "full.example",
        auth=AuthConfig(type=APIKEY_AUTH_ID, sharing="inherit", config={"header": "x-k", "secret_ref": "k"}),
        headers=HeadersConfig(request=RequestHeaderRules(set={"x-a": "1"}, passthrough="allowlist")),
        plugins=PluginsConfig(
            sharing="enforce", items=[PluginItem(plugin_ref="gts.x.y~a.b.c.d.v1", config={})]
        ),
        rate_limit=RateLimitConfig(sustained=SustainedRate(rate=5, window="minute"), scope="user"),
        cors=CorsConfig(enabled=True, allowed_origins=["https://a.example"]),
        tags=["t1", "t2"],
        enabled=False,
    )


def route(up: Upstream, path: str = "/v1", priority: int = 0) -> Route:
    spec = RouteSpec(
        upstream_id=up.id,
        match=RouteMatch(http=HttpMatch(methods=["GET", "POST"], path=path, query_allowlist=["a"])),
        rate_limit=RateLimitConfig(sustained=SustainedRate(rate=2)),
        tags=["r"],
        priority=priority,
    )
    return build_route(spec, tenant_id=up.tenant_id, upstream=up, existing=[])


Repos = tuple[UpstreamRepository, RouteRepository, bool]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """Sync on purpose: the session PostgreSQL fixture cannot start inside a running loop."""
    kind = str(request.param)
    return kind, request.getfixturevalue("pg_session_dsn") if kind == "postgres" else None


@pytest.fixture
async def repos(storage: tuple[str, str | None], tmp_path: Path, module_name: str) -> AsyncIterator[Repos]:
    kind, dsn = storage
    if kind == "memory":
        yield InMemoryUpstreamRepository(), InMemoryRouteRepository(), False
        return
    block = {"dsn": dsn, "pool": {"max_size": 4}} if dsn is not None else None
    db = await open_database(module_name, resolve_db_settings(module_name, block, {}, None, tmp_path))
    try:
        await run_migrations(db, module_name, MIGRATIONS, fabrikit_version="test")
        yield SqlUpstreamRepository(db), SqlRouteRepository(db), True
    finally:
        await db.close()


async def test_upstream_round_trip_and_tenant_scoping(repos: Repos) -> None:
    ups, _, _ = repos
    full = full_upstream(T1)
    await ups.insert(full)
    assert await ups.get(T1, full.id) == full
    assert await ups.get(T2, full.id) is None
    assert await ups.find_by_alias(T1, "FULL.example.") == full
    assert await ups.find_by_alias(T2, "full.example") is None
    assert not await ups.delete(T2, full.id)
    assert await ups.get(T1, full.id) == full


async def test_alias_unique_per_tenant(repos: Repos) -> None:
    ups, _, _ = repos
    first = upstream(T1, "same")
    await ups.insert(first)
    with pytest.raises(ConflictError):
        await ups.insert(upstream(T1, "SAME"))
    await ups.insert(upstream(T2, "same"))  # another tenant may reuse it
    other = upstream(T1, "other")
    await ups.insert(other)
    with pytest.raises(ConflictError):
        await ups.update(msgspec.structs.replace(other, alias="same"))
    with pytest.raises(NotFoundError):
        await ups.update(msgspec.structs.replace(other, tenant_id=T2))
    renamed = msgspec.structs.replace(other, alias="renamed", tags=["x"])
    await ups.update(renamed)
    assert await ups.get(T1, other.id) == renamed
    assert await ups.find_by_alias(T1, "other") is None


async def test_listing_is_sorted_by_id_and_paged(repos: Repos) -> None:
    ups, _, _ = repos
    made = [upstream(T1, f"a{i}") for i in range(5)]
    for item in made:
        await ups.insert(item)
    await ups.insert(upstream(T2, "a0"))
    ids = sorted(u.id for u in made)
    assert [u.id for u in await ups.list(T1, limit=3)] == ids[:3]
    assert [u.id for u in await ups.list(T1, limit=3, offset=3)] == ids[3:]
    assert len(await ups.list(T2)) == 1


async def test_find_by_alias_in_keeps_the_chain_order(repos: Repos) -> None:
    ups, _, _ = repos
    mine, theirs = upstream(T1, "llm"), upstream(T2, "llm")
    await ups.insert(mine)
    await ups.insert(theirs)
    other = UUID("20000000-0000-4000-8000-000000000009")
    assert await ups.find_by_alias_in([T2, other, T1], "LLM") == [[theirs], [], [mine]]
    assert await ups.find_by_alias_in([], "llm") == []


async def test_routes_crud_and_cascade(repos: Repos) -> None:
    ups, routes, cascades = repos
    up = upstream(T1, "r")
    await ups.insert(up)
    first, second = route(up, "/v1"), route(up, "/v2", priority=3)
    await routes.insert(first)
    await routes.insert(second)
    with pytest.raises(ConflictError):
        await routes.insert(first)
    assert await routes.get(T1, first.id) == first
    assert await routes.get(T2, first.id) is None
    assert [r.id for r in await routes.list(T1, upstream_id=up.id)] == sorted([first.id, second.id])
    assert (
        await routes.list(T1, upstream_id="gts.x.core.oagw.upstream.v1~00000000-0000-4000-8000-000000000000")
        == []
    )
    assert await routes.list_by_upstream(up.id) == sorted([first, second], key=lambda r: r.id)
    changed = msgspec.structs.replace(first, priority=9, enabled=False, tags=[])
    await routes.update(changed)
    assert await routes.get(T1, first.id) == changed
    with pytest.raises(NotFoundError):
        await routes.update(msgspec.structs.replace(first, tenant_id=T2))
    assert not await routes.delete(T2, first.id)
    assert await routes.delete(T1, first.id)
    assert await routes.get(T1, first.id) is None

    if cascades:  # the foreign key removes an upstream's routes with it
        assert await ups.delete(T1, up.id)
        assert await routes.list_by_upstream(up.id) == []
    else:
        assert await routes.delete_by_upstream(up.id) == 1
        assert await ups.delete(T1, up.id)
    assert await ups.get(T1, up.id) is None


async def test_migration_is_idempotent(db: Database) -> None:
    assert await run_migrations(db, db.module, MIGRATIONS, fabrikit_version="test") == [MIGRATIONS[0].name]
    assert await run_migrations(db, db.module, MIGRATIONS, fabrikit_version="test") == []
    with pytest.raises(Exception) as info:  # noqa: PT011  (asyncpg and sqlite3 raise different types)
        await db.execute(
            "INSERT INTO oagw_routes (id, tenant_id, upstream_id, match_spec, tags, priority, enabled) "
            "VALUES ({}, {}, {}, {}, {}, {}, {})",
            "r",
            "t",
            "missing-upstream",
            "{}",
            "[]",
            0,
            True,
        )
    assert "foreign" in str(info.value).lower() or "violates" in str(info.value).lower()
