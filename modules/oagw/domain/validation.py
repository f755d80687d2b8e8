"""Semantic validation of upstream and route specs (→ 400 ``validation.error``, 409 on conflicts).

``build_*`` turn a create spec into a stored model; ``replace_*`` apply a full-replace update (G-3.4, G-4.1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from uuid import UUID

from ..sdk import (
    HTTP_PROTOCOL_ID,
    AuthConfig,
    ConflictError,
    CorsConfig,
    HttpMatch,
    PluginsConfig,
    RateLimitConfig,
    Route,
    RouteMatch,
    RouteSpec,
    RouteUpdate,
    Server,
    Upstream,
    UpstreamSpec,
    UpstreamUpdate,
    ValidationError,
    canonical_upstream_id,
    new_route_id,
    new_upstream_id,
    normalize_path,
)
from .alias import alias_for_create, alias_for_update
from .endpoints import validate_endpoints
from .headers import validate_headers_config
from .paths import strip_trailing_slash

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
CORS_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def validate_protocol(protocol: str) -> str:
    if protocol != HTTP_PROTOCOL_ID:
        raise ValidationError(f"protocol must be {HTTP_PROTOCOL_ID!r} (gRPC is not supported yet)")
    return protocol


def validate_auth(auth: AuthConfig | None) -> AuthConfig | None:
    if auth is not None and not auth.type.strip():
        raise ValidationError("auth.type must name an auth plugin instance id")
    return auth


def validate_plugins(plugins: PluginsConfig | None, where: str = "plugins") -> PluginsConfig | None:
    if plugins is None:
        return None
    for index, item in enumerate(plugins.items):
        if not item.plugin_ref.strip():
            raise ValidationError(f"{where}.items[{index}].plugin_ref must not be empty")
    return plugins


def validate_rate_limit(
    rate_limit: RateLimitConfig | None, where: str = "rate_limit"
) -> RateLimitConfig | None:
    """G-15.1: positive rate and capacity, cost ≥ 1 and no larger than what the bucket can ever hold."""
    if rate_limit is None:
        return None
    rate = rate_limit.sustained.rate
    if not math.isfinite(rate) or rate <= 0:
        raise ValidationError(f"{where}.sustained.rate must be a positive number")
    capacity = rate_limit.capacity
    if not math.isfinite(capacity) or capacity <= 0:
        raise ValidationError(f"{where}.burst.capacity must be a positive number")
    if rate_limit.cost < 1:
        raise ValidationError(f"{where}.cost must be at least 1")
    limit = rate if rate_limit.algorithm == "sliding_window" else capacity
    if rate_limit.cost > limit:
        raise ValidationError(f"{where}.cost exceeds the limit, so no request could ever pass")
    return rate_limit


def validate_cors(cors: CorsConfig | None, where: str = "cors") -> CorsConfig | None:
    if cors is None:
        return None
    methods = [m.upper() for m in cors.allowed_methods]
    unknown = sorted(set(methods) - CORS_METHODS)
    if unknown:
        raise ValidationError(f"{where}.allowed_methods has unknown methods {unknown}")
    for origin in cors.allowed_origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValidationError(f"{where}.allowed_origins entries must be '*' or http(s) origins")
    if cors.allow_credentials and "*" in cors.allowed_origins:
        raise ValidationError(f"{where}: allow_credentials cannot be combined with the '*' origin")
    return CorsConfig(
        sharing=cors.sharing,
        enabled=cors.enabled,
        allowed_origins=list(cors.allowed_origins),
        allowed_methods=methods,
        expose_headers=[h.lower() for h in cors.expose_headers],
        allow_credentials=cors.allow_credentials,
    )


def normalize_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _validated(
    spec: UpstreamSpec | UpstreamUpdate, *, id: str, tenant_id: UUID, alias: str, server: Server
) -> Upstream:
    return Upstream(
        id=id,
        tenant_id=tenant_id,
        alias=alias,
        server=server,
        protocol=validate_protocol(spec.protocol),
        enabled=spec.enabled,
        auth=validate_auth(spec.auth),
        headers=validate_headers_config(spec.headers),
        plugins=validate_plugins(spec.plugins),
        rate_limit=validate_rate_limit(spec.rate_limit),
        cors=validate_cors(spec.cors),
        tags=normalize_tags(spec.tags),
        allow_private_network=spec.allow_private_network,
    )


def build_upstream(spec: UpstreamSpec, *, tenant_id: UUID, id: str | None = None) -> Upstream:
    """Validate a create spec (G-3.1–G-3.3) into a new upstream with a fresh GTS id."""
    server = Server(endpoints=validate_endpoints(spec.server.endpoints))
    alias = alias_for_create(server.endpoints, spec.alias)
    return _validated(spec, id=id or new_upstream_id(), tenant_id=tenant_id, alias=alias, server=server)


def replace_upstream(current: Upstream, spec: UpstreamUpdate) -> Upstream:
    """Full replace keeping ``id`` and ``tenant_id``; the alias follows G-3.4."""
    server = Server(endpoints=validate_endpoints(spec.server.endpoints))
    alias = alias_for_update(current.server.endpoints, current.alias, server.endpoints, spec.alias)
    return _validated(spec, id=current.id, tenant_id=current.tenant_id, alias=alias, server=server)


def spec_of(upstream: Upstream) -> UpstreamUpdate:
    """The full-replace spec that would reproduce ``upstream`` (used by ``ensure_upstream`` to compare)."""
    return UpstreamUpdate(
        server=upstream.server,
        protocol=upstream.protocol,
        enabled=upstream.enabled,
        tags=list(upstream.tags),
        alias=upstream.alias,
        auth=upstream.auth,
        headers=upstream.headers,
        plugins=upstream.plugins,
        rate_limit=upstream.rate_limit,
        cors=upstream.cors,
        allow_private_network=upstream.allow_private_network,
    )


def validate_match(match: RouteMatch) -> RouteMatch:
    """G-4.2: exactly one of http/grpc; grpc → 400; methods ⊆ GET POST PUT DELETE PATCH; path starts with /."""
    if (match.http is None) == (match.grpc is None):
        raise ValidationError("match must hold exactly one of 'http' or 'grpc'")
    if match.grpc is not None or match.http is None:
        raise ValidationError("gRPC routes are not supported yet")
    http = match.http
    methods = list(dict.fromkeys(m.upper() for m in http.methods))
    if not methods:
        raise ValidationError("match.http.methods needs at least one method")
    unknown = [m for m in methods if m not in HTTP_METHODS]
    if unknown:
        raise ValidationError(f"match.http.methods must be among {', '.join(HTTP_METHODS)}")
    if not http.path.startswith("/"):
        raise ValidationError("match.http.path must start with '/'")
    path = strip_trailing_slash(normalize_path(http.path))
    if path != strip_trailing_slash(http.path):
        raise ValidationError("match.http.path must be a normalised path (no '.', '..', '//' or bad escapes)")
    for name in http.query_allowlist:
        if not name:
            raise ValidationError("match.http.query_allowlist entries must not be empty")
    return RouteMatch(
        http=HttpMatch(
            methods=methods,
            path=path,
            query_allowlist=list(dict.fromkeys(http.query_allowlist)),
            path_suffix_mode=http.path_suffix_mode,
        )
    )


def routes_conflict(a: Route, b: Route) -> bool:
    """G-4.3: both enabled, same upstream, equal path and priority, a shared method."""
    if a.id == b.id or not (a.enabled and b.enabled) or a.upstream_id != b.upstream_id:
        return False
    if a.priority != b.priority or a.http.path != b.http.path:
        return False
    return bool(set(a.http.methods) & set(b.http.methods))


def check_route_conflicts(route: Route, existing: Sequence[Route]) -> None:
    for other in existing:
        if routes_conflict(route, other):
            raise ConflictError(
                "another enabled route of this upstream has the same path, priority and a method"
            )


def _route_upstream_id(spec_upstream_id: str, upstream: Upstream | None, tenant_id: UUID) -> str:
    upstream_id = canonical_upstream_id(spec_upstream_id)
    if upstream is None or upstream.id != upstream_id or upstream.tenant_id != tenant_id:
        raise ValidationError("upstream_id must name one of your own upstreams")
    return upstream_id


def build_route(
    spec: RouteSpec,
    *,
    tenant_id: UUID,
    upstream: Upstream | None,
    existing: Sequence[Route] = (),
    id: str | None = None,
) -> Route:
    """Validate a create spec (G-4.1–G-4.3); ``upstream`` is the caller's upstream named by ``upstream_id`` (or
    ``None`` when it was not found); ``existing`` are that upstream's routes."""
    route = Route(
        id=id or new_route_id(),
        tenant_id=tenant_id,
        upstream_id=_route_upstream_id(spec.upstream_id, upstream, tenant_id),
        match=validate_match(spec.match),
        plugins=validate_plugins(spec.plugins),
        rate_limit=validate_rate_limit(spec.rate_limit),
        cors=validate_cors(spec.cors),
        tags=normalize_tags(spec.tags),
        priority=spec.priority,
        enabled=spec.enabled,
    )
    check_route_conflicts(route, existing)
    return route


def replace_route(current: Route, spec: RouteUpdate, *, existing: Sequence[Route] = ()) -> Route:
    """Full replace keeping ``id``, ``tenant_id`` and ``upstream_id`` (which may be repeated, not changed)."""
    if spec.upstream_id is not None and canonical_upstream_id(spec.upstream_id) != current.upstream_id:
        raise ValidationError("upstream_id of a route cannot change")
    route = Route(
        id=current.id,
        tenant_id=current.tenant_id,
        upstream_id=current.upstream_id,
        match=validate_match(spec.match),
        plugins=validate_plugins(spec.plugins),
        rate_limit=validate_rate_limit(spec.rate_limit),
        cors=validate_cors(spec.cors),
        tags=normalize_tags(spec.tags),
        priority=spec.priority,
        enabled=spec.enabled,
    )
    check_route_conflicts(route, existing)
    return route


def route_ensure_key(route: Route | RouteSpec) -> tuple[str, str, frozenset[str]]:
    """G-7.3: ``ensure_route`` keys on (upstream_id, path, method set)."""
    http = route.match.http
    if http is None:
        raise ValidationError("gRPC routes are not supported yet")
    return (
        canonical_upstream_id(route.upstream_id),
        strip_trailing_slash(http.path),
        frozenset(m.upper() for m in http.methods),
    )
