"""In-memory repositories (G-6.1, G-5.1, G-3.5)."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.modules.oagw.domain.repository import (
    InMemoryRouteRepository,
    InMemoryUpstreamRepository,
    RouteRepository,
    UpstreamRepository,
)
from fabrikit.modules.oagw.sdk import ConflictError, NotFoundError

from .factories import PARENT, TENANT, route, upstream


async def test_upstream_crud_tenant_scoped_and_unique_alias() -> None:
    repo = InMemoryUpstreamRepository()
    assert isinstance(repo, UpstreamRepository)
    a = upstream("a.com")
    await repo.insert(a)
    with pytest.raises(ConflictError):
        await repo.insert(upstream("A.com."))
    await repo.insert(upstream("a.com", tenant=PARENT))
    assert await repo.get(TENANT, a.id) == a
    assert await repo.get(PARENT, a.id) is None
    assert await repo.find_by_alias(TENANT, "A.COM") == a
    chain = await repo.find_by_alias_in([TENANT, PARENT], "a.com")
    assert [len(c) for c in chain] == [1, 1]
    b = upstream("b.com", enabled=False)
    await repo.insert(b)
    with pytest.raises(ConflictError):
        await repo.update(msgspec.structs.replace(b, alias="a.com"))
    with pytest.raises(NotFoundError):
        await repo.update(msgspec.structs.replace(b, tenant_id=PARENT))
    listed = await repo.list(TENANT)
    assert [u.id for u in listed] == sorted([a.id, b.id])
    assert len(await repo.list(TENANT, limit=1, offset=1)) == 1
    assert await repo.delete(PARENT, a.id) is False
    assert await repo.delete(TENANT, a.id) is True
    assert await repo.get(TENANT, a.id) is None


async def test_routes_filter_and_cascade() -> None:
    repo = InMemoryRouteRepository()
    assert isinstance(repo, RouteRepository)
    u1, u2 = upstream("a.com"), upstream("b.com")
    r1, r2, r3 = route(u1, "/a"), route(u1, "/b"), route(u2, "/c")
    for r in (r1, r2, r3):
        await repo.insert(r)
    assert {r.id for r in await repo.list(TENANT, upstream_id=u1.id)} == {r1.id, r2.id}
    assert await repo.list(PARENT) == []
    assert len(await repo.list_by_upstream(u2.id)) == 1
    assert await repo.delete_by_upstream(u1.id) == 2
    assert [r.id for r in await repo.list(TENANT)] == [r3.id]
    with pytest.raises(NotFoundError):
        await repo.update(r1)
