"""Management REST (G-10) and the proxy endpoint (G-11)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from fabrikit.kernel.http import authenticated

from ..sdk import Route, RouteSpec, RouteUpdate, Upstream, UpstreamSpec, UpstreamUpdate, ValidationError
from ..service import OagwService
from .context import security_of
from .proxy import proxy_handlers

_MGMT: dict[str, Any] = {"validation_status": 422}


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit():
        raise ValidationError(f"{name} must be an integer")
    return int(text)


def management_router(service: OagwService) -> Router:
    @post("/upstreams", status_code=201, opt=authenticated("oagw.create_upstream", **_MGMT))
    async def create_upstream(data: JSONBody[UpstreamSpec], request: Request[Any, Any, Any]) -> Upstream:
        return await service.create_upstream(security_of(request), data)

    @get("/upstreams", opt=authenticated("oagw.list_upstreams", **_MGMT))
    async def list_upstreams(
        request: Request[Any, Any, Any],
        limit: FromQuery[str | None] = None,
        offset: FromQuery[str | None] = None,
    ) -> list[Upstream]:
        return await service.list_upstreams(
            security_of(request), _int(limit, "limit", 50), _int(offset, "offset", 0)
        )

    @get("/upstreams/{upstream_id:str}", opt=authenticated("oagw.get_upstream", **_MGMT))
    async def get_upstream(upstream_id: FromPath[str], request: Request[Any, Any, Any]) -> Upstream:
        return await service.get_upstream(security_of(request), upstream_id)

    @put("/upstreams/{upstream_id:str}", opt=authenticated("oagw.update_upstream", **_MGMT))
    async def update_upstream(
        upstream_id: FromPath[str], data: JSONBody[UpstreamUpdate], request: Request[Any, Any, Any]
    ) -> Upstream:
        return await service.update_upstream(security_of(request), upstream_id, data)

    @delete(
        "/upstreams/{upstream_id:str}", status_code=204, opt=authenticated("oagw.delete_upstream", **_MGMT)
    )
    async def delete_upstream(upstream_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
        await service.delete_upstream(security_of(request), upstream_id)

    @post("/routes", status_code=201, opt=authenticated("oagw.create_route", **_MGMT))
    async def create_route(data: JSONBody[RouteSpec], request: Request[Any, Any, Any]) -> Route:
        return await service.create_route(security_of(request), data)

    @get("/routes", opt=authenticated("oagw.list_routes", **_MGMT))
    async def list_routes(
        request: Request[Any, Any, Any],
        upstream_id: FromQuery[str | None] = None,
        limit: FromQuery[str | None] = None,
        offset: FromQuery[str | None] = None,
    ) -> list[Route]:
        return await service.list_routes(
            security_of(request), upstream_id, _int(limit, "limit", 50), _int(offset, "offset", 0)
        )

    @get("/routes/{route_id:str}", opt=authenticated("oagw.get_route", **_MGMT))
    async def get_route(route_id: FromPath[str], request: Request[Any, Any, Any]) -> Route:
        return await service.get_route(security_of(request), route_id)

    @put("/routes/{route_id:str}", opt=authenticated("oagw.update_route", **_MGMT))
    async def update_route(
        route_id: FromPath[str], data: JSONBody[RouteUpdate], request: Request[Any, Any, Any]
    ) -> Route:
        return await service.update_route(security_of(request), route_id, data)

    @delete("/routes/{route_id:str}", status_code=204, opt=authenticated("oagw.delete_route", **_MGMT))
    async def delete_route(route_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
        await service.delete_route(security_of(request), route_id)

    return Router(
        "/oagw/v1",
        route_handlers=[
            create_upstream,
            list_upstreams,
            get_upstream,
            update_upstream,
            delete_upstream,
            create_route,
            list_routes,
            get_route,
            update_route,
            delete_route,
        ],
    )


def build_routers(service: OagwService) -> list[Any]:
    return [management_router(service), Router("/oagw/v1/proxy", route_handlers=proxy_handlers(service))]
