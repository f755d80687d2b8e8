"""Storage interfaces (G-6.1) and the default in-memory implementation.

Repositories store validated models as given; they enforce only uniqueness (``(tenant_id, alias)`` → 409) and
tenant scoping. Ids are GTS strings in canonical (lower-case) form, so sorting by id is sorting by uuid.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable
from uuid import UUID

from ..sdk import ConflictError, NotFoundError, Route, Upstream
from .alias import normalize_alias


@runtime_checkable
class UpstreamRepository(Protocol):
    async def insert(self, upstream: Upstream) -> None:
        """Store a new upstream; an existing ``(tenant_id, alias)`` → ``ConflictError``."""
        ...

    async def get(self, tenant_id: UUID, upstream_id: str) -> Upstream | None:
        """The tenant's own upstream, or ``None`` (foreign ids are invisible)."""
        ...

    async def find_by_alias(self, tenant_id: UUID, alias: str) -> Upstream | None: ...

    async def find_by_alias_in(
        self, tenant_ids: Sequence[UUID], alias: str
    ) -> builtins.list[builtins.list[Upstream]]:
        """Candidates per tenant, in the order of ``tenant_ids`` (the input of ``resolve_upstream``)."""
        ...

    async def list(self, tenant_id: UUID, *, limit: int = 50, offset: int = 0) -> builtins.list[Upstream]:
        """Sorted by id; disabled rows included."""
        ...

    async def update(self, upstream: Upstream) -> None:
        """Replace by id (same tenant); unknown → ``NotFoundError``; alias taken → ``ConflictError``."""
        ...

    async def delete(self, tenant_id: UUID, upstream_id: str) -> bool: ...


@runtime_checkable
class RouteRepository(Protocol):
    async def insert(self, route: Route) -> None: ...

    async def get(self, tenant_id: UUID, route_id: str) -> Route | None: ...

    async def list(
        self, tenant_id: UUID, *, upstream_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[Route]:
        """The tenant's routes sorted by id, optionally of one upstream."""
        ...

    async def list_by_upstream(self, upstream_id: str) -> builtins.list[Route]:
        """Every route of an upstream, whatever the caller's tenant (used on the proxy path)."""
        ...

    async def update(self, route: Route) -> None: ...

    async def delete(self, tenant_id: UUID, route_id: str) -> bool: ...

    async def delete_by_upstream(self, upstream_id: str) -> int:
        """Cascade of an upstream delete (G-3.5); returns how many routes went."""
        ...


def _page(items: Iterable[Upstream] | Iterable[Route], limit: int, offset: int) -> list:  # type: ignore[type-arg]
    ordered = sorted(items, key=lambda item: item.id)
    return ordered[offset : offset + limit]


class InMemoryUpstreamRepository:
    def __init__(self) -> None:
        self._rows: dict[str, Upstream] = {}

    def _alias_owner(self, tenant_id: UUID, alias: str) -> Upstream | None:
        key = normalize_alias(alias)
        return next(
            (u for u in self._rows.values() if u.tenant_id == tenant_id and normalize_alias(u.alias) == key),
            None,
        )

    async def insert(self, upstream: Upstream) -> None:
        if upstream.id in self._rows:
            raise ConflictError("an upstream with this id already exists")
        if self._alias_owner(upstream.tenant_id, upstream.alias) is not None:
            raise ConflictError("an upstream with this alias already exists in the tenant")
        self._rows[upstream.id] = upstream

    async def get(self, tenant_id: UUID, upstream_id: str) -> Upstream | None:
        row = self._rows.get(upstream_id)
        return row if row is not None and row.tenant_id == tenant_id else None

    async def find_by_alias(self, tenant_id: UUID, alias: str) -> Upstream | None:
        return self._alias_owner(tenant_id, alias)

    async def find_by_alias_in(
        self, tenant_ids: Sequence[UUID], alias: str
    ) -> builtins.list[builtins.list[Upstream]]:
        out: builtins.list[builtins.list[Upstream]] = []
        for tenant_id in tenant_ids:
            row = self._alias_owner(tenant_id, alias)
            out.append([row] if row is not None else [])
        return out

    async def list(self, tenant_id: UUID, *, limit: int = 50, offset: int = 0) -> builtins.list[Upstream]:
        return _page((u for u in self._rows.values() if u.tenant_id == tenant_id), limit, offset)

    async def update(self, upstream: Upstream) -> None:
        current = self._rows.get(upstream.id)
        if current is None or current.tenant_id != upstream.tenant_id:
            raise NotFoundError("upstream not found", entity="upstream")
        owner = self._alias_owner(upstream.tenant_id, upstream.alias)
        if owner is not None and owner.id != upstream.id:
            raise ConflictError("an upstream with this alias already exists in the tenant")
        self._rows[upstream.id] = upstream

    async def delete(self, tenant_id: UUID, upstream_id: str) -> bool:
        row = self._rows.get(upstream_id)
        if row is None or row.tenant_id != tenant_id:
            return False
        del self._rows[upstream_id]
        return True


class InMemoryRouteRepository:
    def __init__(self) -> None:
        self._rows: dict[str, Route] = {}

    async def insert(self, route: Route) -> None:
        if route.id in self._rows:
            raise ConflictError("a route with this id already exists")
        self._rows[route.id] = route

    async def get(self, tenant_id: UUID, route_id: str) -> Route | None:
        row = self._rows.get(route_id)
        return row if row is not None and row.tenant_id == tenant_id else None

    async def list(
        self, tenant_id: UUID, *, upstream_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[Route]:
        rows = (
            r
            for r in self._rows.values()
            if r.tenant_id == tenant_id and (upstream_id is None or r.upstream_id == upstream_id)
        )
        return _page(rows, limit, offset)

    async def list_by_upstream(self, upstream_id: str) -> builtins.list[Route]:
        return sorted((r for r in self._rows.values() if r.upstream_id == upstream_id), key=lambda r: r.id)

    async def update(self, route: Route) -> None:
        current = self._rows.get(route.id)
        if current is None or current.tenant_id != route.tenant_id:
            raise NotFoundError("route not found", entity="route")
        self._rows[route.id] = route

    async def delete(self, tenant_id: UUID, route_id: str) -> bool:
        row = self._rows.get(route_id)
        if row is None or row.tenant_id != tenant_id:
            return False
        del self._rows[route_id]
        return True

    async def delete_by_upstream(self, upstream_id: str) -> int:
        doomed = [k for k, r in self._rows.items() if r.upstream_id == upstream_id]
        for key in doomed:
            del self._rows[key]
        return len(doomed)
