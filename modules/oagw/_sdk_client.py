"""The in-process client other modules call (G-7.1). Every method is async and takes the caller's context first."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from fabrikit.kernel.security import SecurityContext

from ._sdk_models import ResolvedTarget, Route, RouteSpec, RouteUpdate, Upstream, UpstreamSpec, UpstreamUpdate
from ._sdk_proxy import ProxyRequest, ProxyResponse


@runtime_checkable
class OagwClient(Protocol):
    async def create_upstream(self, ctx: SecurityContext, spec: UpstreamSpec) -> Upstream: ...

    async def get_upstream(self, ctx: SecurityContext, id: str) -> Upstream: ...

    async def list_upstreams(
        self, ctx: SecurityContext, limit: int = 50, offset: int = 0
    ) -> list[Upstream]: ...

    async def update_upstream(self, ctx: SecurityContext, id: str, spec: UpstreamUpdate) -> Upstream: ...

    async def delete_upstream(self, ctx: SecurityContext, id: str) -> None: ...

    async def ensure_upstream(self, ctx: SecurityContext, spec: UpstreamSpec) -> Upstream: ...

    async def create_route(self, ctx: SecurityContext, spec: RouteSpec) -> Route: ...

    async def get_route(self, ctx: SecurityContext, id: str) -> Route: ...

    async def list_routes(
        self, ctx: SecurityContext, upstream_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Route]: ...

    async def update_route(self, ctx: SecurityContext, id: str, spec: RouteUpdate) -> Route: ...

    async def delete_route(self, ctx: SecurityContext, id: str) -> None: ...

    async def ensure_route(self, ctx: SecurityContext, spec: RouteSpec) -> Route: ...

    async def resolve_proxy_target(
        self, ctx: SecurityContext, alias: str, method: str, path: str
    ) -> ResolvedTarget: ...

    async def proxy_request(self, ctx: SecurityContext, req: ProxyRequest) -> ProxyResponse: ...
