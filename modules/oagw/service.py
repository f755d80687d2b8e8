"""``OagwService``: the ``OagwClient`` oagw puts in the hub — management (G-7.1, G-7.3, G-10.3, G-17.4), the
per-process resolution cache (G-6.3) and the proxy pipeline (``pipeline.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import msgspec

from fabrikit.kernel.security import Secret, SecurityContext

from .domain.limiter import RateLimiterRegistry
from .domain.matching import select_route
from .domain.merge import effective_upstream
from .domain.repository import RouteRepository, UpstreamRepository
from .domain.resolution import resolve_upstream
from .domain.validation import (
    build_route,
    build_upstream,
    replace_route,
    replace_upstream,
    route_ensure_key,
)
from .sdk import (
    ALLOW_PRIVATE_NETWORK_ACTION,
    ROUTE_TYPE_ID,
    UPSTREAM_TYPE_ID,
    ConflictError,
    NotFoundError,
    ProxyRequest,
    ProxyResponse,
    ResolvedTarget,
    Route,
    RouteSpec,
    RouteUpdate,
    Upstream,
    UpstreamSpec,
    UpstreamUpdate,
    ValidationError,
    canonical_route_id,
    canonical_upstream_id,
)

Clock = Callable[[], float]
MAX_PAGE = 100


class PlatformPort(Protocol):
    async def authorize(self, ctx: SecurityContext, resource_type: str, action: str) -> None: ...

    async def tenant_chain(self, ctx: SecurityContext) -> list[UUID]: ...

    async def secret(self, ctx: SecurityContext, name: str) -> Secret: ...


class ProxyPort(Protocol):
    async def run(
        self, ctx: SecurityContext, req: ProxyRequest, *, client_ip: str | None
    ) -> ProxyResponse: ...


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """What the cache holds per (tenant, alias): the effective upstream and route groups, nearest first."""

    upstream: Upstream
    route_groups: list[list[Route]]


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be within 1..{MAX_PAGE}")
    if offset < 0:
        raise ValidationError("offset must be >= 0")


class OagwService:
    def __init__(
        self,
        *,
        upstreams: UpstreamRepository,
        routes: RouteRepository,
        platform: PlatformPort,
        limiters: RateLimiterRegistry,
        cache_ttl_secs: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.upstreams = upstreams
        self.routes = routes
        self.platform = platform
        self.limiters = limiters
        self.proxy: ProxyPort | None = None
        self._cache_ttl = cache_ttl_secs
        self._clock = clock
        self._cache: dict[tuple[UUID, str], tuple[Target, float]] = {}

    # --- cache (G-6.3) ------------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """A local write is visible to the next request at once."""
        self._cache.clear()

    async def _target(self, ctx: SecurityContext, alias: str) -> Target:
        key = (ctx.subject_tenant_id, alias.lower().rstrip("."))
        cached = self._cache.get(key)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        chain = await self.platform.tenant_chain(ctx)
        candidates = await self.upstreams.find_by_alias_in(chain, alias)
        resolution = resolve_upstream(candidates, alias)
        groups = [await self.routes.list_by_upstream(resolution.winner.id)]
        for ancestor in resolution.ancestors:
            groups.append(await self.routes.list_by_upstream(ancestor.id))
        target = Target(upstream=effective_upstream(resolution), route_groups=groups)
        self._cache[key] = (target, now + self._cache_ttl)
        return target

    async def resolve(self, ctx: SecurityContext, alias: str, method: str, path: str) -> ResolvedTarget:
        target = await self._target(ctx, alias)
        route = select_route(target.route_groups, method, path)
        return ResolvedTarget(upstream=target.upstream, route=route)

    # --- upstreams ----------------------------------------------------------------------------------------------
    async def _may_allow_private(self, ctx: SecurityContext, wanted: bool, had: bool) -> None:
        if wanted and not had:
            await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, ALLOW_PRIVATE_NETWORK_ACTION)

    async def create_upstream(self, ctx: SecurityContext, spec: UpstreamSpec) -> Upstream:
        await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "create")
        upstream = build_upstream(spec, tenant_id=ctx.subject_tenant_id)
        await self._may_allow_private(ctx, upstream.allow_private_network, False)
        await self.upstreams.insert(upstream)
        self.invalidate()
        return upstream

    async def _own_upstream(self, ctx: SecurityContext, id: str) -> Upstream:
        upstream = await self.upstreams.get(ctx.subject_tenant_id, canonical_upstream_id(id))
        if upstream is None:
            raise NotFoundError("upstream not found", entity="upstream")
        return upstream

    async def get_upstream(self, ctx: SecurityContext, id: str) -> Upstream:
        upstream_id = canonical_upstream_id(id)
        await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "read")
        return await self._own_upstream(ctx, upstream_id)

    async def list_upstreams(self, ctx: SecurityContext, limit: int = 50, offset: int = 0) -> list[Upstream]:
        _page(limit, offset)
        await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "read")
        return await self.upstreams.list(ctx.subject_tenant_id, limit=limit, offset=offset)

    async def _replace_upstream(
        self, ctx: SecurityContext, current: Upstream, spec: UpstreamUpdate
    ) -> Upstream:
        updated = replace_upstream(current, spec)
        if updated == current:
            return current
        await self._may_allow_private(ctx, updated.allow_private_network, current.allow_private_network)
        await self.upstreams.update(updated)
        self.invalidate()
        return updated

    async def update_upstream(self, ctx: SecurityContext, id: str, spec: UpstreamUpdate) -> Upstream:
        upstream_id = canonical_upstream_id(id)
        await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "update")
        current = await self._own_upstream(ctx, upstream_id)
        return await self._replace_upstream(ctx, current, spec)

    async def delete_upstream(self, ctx: SecurityContext, id: str) -> None:
        upstream_id = canonical_upstream_id(id)
        await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "delete")
        await self._own_upstream(ctx, upstream_id)
        for route in await self.routes.list_by_upstream(upstream_id):
            self.limiters.forget("route", route.id)
        await self.routes.delete_by_upstream(upstream_id)
        await self.upstreams.delete(ctx.subject_tenant_id, upstream_id)
        self.limiters.forget("upstream", upstream_id)
        self.invalidate()

    async def ensure_upstream(self, ctx: SecurityContext, spec: UpstreamSpec) -> Upstream:
        """G-7.3: keyed on (tenant, explicit-or-derived alias): create, return unchanged, or full replace."""
        candidate = build_upstream(spec, tenant_id=ctx.subject_tenant_id)
        for _ in range(2):
            current = await self.upstreams.find_by_alias(ctx.subject_tenant_id, candidate.alias)
            if current is None:
                try:
                    return await self.create_upstream(ctx, spec)
                except ConflictError:
                    continue  # a lost insert race: re-read as "exists"
            await self.platform.authorize(ctx, UPSTREAM_TYPE_ID, "update")
            update = UpstreamUpdate(
                server=spec.server,
                protocol=spec.protocol,
                enabled=spec.enabled,
                tags=list(spec.tags),
                alias=candidate.alias,
                auth=spec.auth,
                headers=spec.headers,
                plugins=spec.plugins,
                rate_limit=spec.rate_limit,
                cors=spec.cors,
                allow_private_network=spec.allow_private_network,
            )
            return await self._replace_upstream(ctx, current, update)
        raise ConflictError("the upstream changed concurrently; retry")

    # --- routes -------------------------------------------------------------------------------------------------
    async def _siblings(self, upstream_id: str, tenant_id: UUID) -> list[Route]:
        return [r for r in await self.routes.list_by_upstream(upstream_id) if r.tenant_id == tenant_id]

    async def create_route(self, ctx: SecurityContext, spec: RouteSpec) -> Route:
        await self.platform.authorize(ctx, ROUTE_TYPE_ID, "create")
        upstream_id = canonical_upstream_id(spec.upstream_id)
        upstream = await self.upstreams.get(ctx.subject_tenant_id, upstream_id)
        existing = await self._siblings(upstream_id, ctx.subject_tenant_id) if upstream else []
        route = build_route(spec, tenant_id=ctx.subject_tenant_id, upstream=upstream, existing=existing)
        await self.routes.insert(route)
        self.invalidate()
        return route

    async def _own_route(self, ctx: SecurityContext, id: str) -> Route:
        route = await self.routes.get(ctx.subject_tenant_id, canonical_route_id(id))
        if route is None:
            raise NotFoundError("route not found", entity="route")
        return route

    async def get_route(self, ctx: SecurityContext, id: str) -> Route:
        route_id = canonical_route_id(id)
        await self.platform.authorize(ctx, ROUTE_TYPE_ID, "read")
        return await self._own_route(ctx, route_id)

    async def list_routes(
        self, ctx: SecurityContext, upstream_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Route]:
        _page(limit, offset)
        wanted = canonical_upstream_id(upstream_id) if upstream_id is not None else None
        await self.platform.authorize(ctx, ROUTE_TYPE_ID, "read")
        return await self.routes.list(ctx.subject_tenant_id, upstream_id=wanted, limit=limit, offset=offset)

    async def _replace_route(self, ctx: SecurityContext, current: Route, spec: RouteUpdate) -> Route:
        siblings = await self._siblings(current.upstream_id, ctx.subject_tenant_id)
        updated = replace_route(current, spec, existing=siblings)
        if updated == current:
            return current
        await self.routes.update(updated)
        if updated.rate_limit != current.rate_limit:
            self.limiters.forget("route", updated.id)
        self.invalidate()
        return updated

    async def update_route(self, ctx: SecurityContext, id: str, spec: RouteUpdate) -> Route:
        route_id = canonical_route_id(id)
        await self.platform.authorize(ctx, ROUTE_TYPE_ID, "update")
        current = await self._own_route(ctx, route_id)
        return await self._replace_route(ctx, current, spec)

    async def delete_route(self, ctx: SecurityContext, id: str) -> None:
        route_id = canonical_route_id(id)
        await self.platform.authorize(ctx, ROUTE_TYPE_ID, "delete")
        await self._own_route(ctx, route_id)
        await self.routes.delete(ctx.subject_tenant_id, route_id)
        self.limiters.forget("route", route_id)
        self.invalidate()

    async def ensure_route(self, ctx: SecurityContext, spec: RouteSpec) -> Route:
        """G-7.3: keyed on (upstream_id, path, method set); overlap with another route → ``ConflictError``."""
        key = route_ensure_key(spec)
        for _ in range(2):
            siblings = await self._siblings(key[0], ctx.subject_tenant_id)
            current = next((r for r in siblings if route_ensure_key(r) == key), None)
            if current is None:
                try:
                    return await self.create_route(ctx, spec)
                except ConflictError:
                    if not any(
                        route_ensure_key(r) == key
                        for r in await self._siblings(key[0], ctx.subject_tenant_id)
                    ):
                        raise
                    continue
            await self.platform.authorize(ctx, ROUTE_TYPE_ID, "update")
            update = RouteUpdate(
                match=spec.match,
                tags=list(spec.tags),
                enabled=spec.enabled,
                priority=spec.priority,
                plugins=spec.plugins,
                rate_limit=spec.rate_limit,
                cors=spec.cors,
            )
            return await self._replace_route(ctx, current, update)
        raise ConflictError("the route changed concurrently; retry")

    # --- proxy --------------------------------------------------------------------------------------------------
    async def resolve_proxy_target(
        self, ctx: SecurityContext, alias: str, method: str, path: str
    ) -> ResolvedTarget:
        """Dry run (G-7.1): no permission check, auth, limits or I/O beyond the lookups."""
        return await self.resolve(ctx, alias, method.upper(), path)

    async def proxy_request(
        self, ctx: SecurityContext, req: ProxyRequest, *, client_ip: str | None = None
    ) -> ProxyResponse:
        if self.proxy is None:
            raise RuntimeError("the oagw proxy pipeline is not wired")
        return await self.proxy.run(ctx, req, client_ip=client_ip)
