"""Small builders for oagw models used across the tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fabrikit.modules.oagw.domain.validation import build_route, build_upstream
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    Endpoint,
    HttpMatch,
    Route,
    RouteMatch,
    RouteSpec,
    Server,
    Upstream,
    UpstreamSpec,
)

TENANT = UUID("00000000-0000-4000-8000-000000000001")
PARENT = UUID("00000000-0000-4000-8000-000000000002")
ROOT = UUID("00000000-0000-4000-8000-000000000003")


def server(*hosts: str, scheme: str = "https", port: int = 443) -> Server:
    return Server(endpoints=[Endpoint(host=h, scheme=scheme, port=port) for h in hosts])


def upstream(*hosts: str, tenant: UUID = TENANT, alias: str | None = None, **fields: Any) -> Upstream:
    spec = UpstreamSpec(
        server=server(*(hosts or ("api.example.com",))), protocol=HTTP_PROTOCOL_ID, alias=alias, **fields
    )
    return build_upstream(spec, tenant_id=tenant)


def route(
    up: Upstream,
    path: str = "/",
    methods: tuple[str, ...] = ("GET", "POST"),
    *,
    priority: int = 0,
    enabled: bool = True,
    existing: tuple[Route, ...] = (),
    **match: Any,
) -> Route:
    spec = RouteSpec(
        upstream_id=up.id,
        match=RouteMatch(http=HttpMatch(methods=list(methods), path=path, **match)),
        priority=priority,
        enabled=enabled,
    )
    return build_route(spec, tenant_id=up.tenant_id, upstream=up, existing=existing)
