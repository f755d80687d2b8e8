"""msgspec models of upstreams and routes, REST JSON snake_case (G-3.1, G-4.1, G-4.2, G-15.1).

Create/update specs forbid unknown fields and type-check on decode (misfits → 422 in the REST layer); the semantic
rules (→ 400) live in ``domain/``. Ids travel in GTS form (``gts.x.core.oagw.upstream.v1~<uuid>``).
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec

Sharing = Literal["private", "inherit", "enforce"]
Passthrough = Literal["none", "allowlist", "all"]
Window = Literal["second", "minute", "hour", "day"]
Algorithm = Literal["token_bucket", "sliding_window"]
Scope = Literal["tenant", "global", "user", "ip", "route"]
Strategy = Literal["reject", "queue", "degrade"]
PathSuffixMode = Literal["append", "disabled"]

WINDOW_SECS: dict[str, int] = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class _Model(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class Endpoint(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    host: str
    # Kept as free strings so unsupported schemes get a 400 with a reason, not a 422 (G-3.2).
    scheme: str = "https"
    port: int = 443


class Server(_Model):
    endpoints: list[Endpoint]


class AuthConfig(_Model):
    type: str
    sharing: Sharing = "private"
    config: dict[str, str] = msgspec.field(default_factory=dict)


class RequestHeaderRules(_Model):
    set: dict[str, str] = msgspec.field(default_factory=dict)
    add: dict[str, str] = msgspec.field(default_factory=dict)
    remove: list[str] = msgspec.field(default_factory=list)
    passthrough: Passthrough = "none"
    passthrough_allowlist: list[str] = msgspec.field(default_factory=list)


class ResponseHeaderRules(_Model):
    set: dict[str, str] = msgspec.field(default_factory=dict)
    add: dict[str, str] = msgspec.field(default_factory=dict)
    remove: list[str] = msgspec.field(default_factory=list)


class HeadersConfig(_Model):
    request: RequestHeaderRules | None = None
    response: ResponseHeaderRules | None = None


class PluginItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    plugin_ref: str
    config: dict[str, str] = msgspec.field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.plugin_ref, tuple(sorted(self.config.items()))))


class PluginsConfig(_Model):
    sharing: Sharing = "private"
    items: list[PluginItem] = msgspec.field(default_factory=list)


class SustainedRate(_Model):
    rate: float
    window: Window = "second"


class Burst(_Model):
    capacity: float


class RateLimitConfig(_Model):
    sustained: SustainedRate
    algorithm: Algorithm = "token_bucket"
    burst: Burst | None = None
    scope: Scope = "tenant"
    strategy: Strategy = "reject"
    cost: int = 1
    response_headers: bool = True
    sharing: Sharing = "private"

    @property
    def capacity(self) -> float:
        return self.burst.capacity if self.burst is not None else self.sustained.rate

    @property
    def window_secs(self) -> int:
        return WINDOW_SECS[self.sustained.window]

    @property
    def per_second(self) -> float:
        """Sustained requests per second, the measure G-5.3 compares."""
        return self.sustained.rate / self.window_secs


class CorsConfig(_Model):
    sharing: Sharing = "private"
    enabled: bool = False
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    allowed_methods: list[str] = msgspec.field(default_factory=list)
    expose_headers: list[str] = msgspec.field(default_factory=list)
    allow_credentials: bool = False


class Upstream(_Model):
    id: str
    tenant_id: UUID
    alias: str
    server: Server
    protocol: str
    enabled: bool = True
    auth: AuthConfig | None = None
    headers: HeadersConfig | None = None
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    allow_private_network: bool = False


class UpstreamSpec(_Model):
    """Create body (G-7.1): ``server`` and ``protocol`` required; ``alias`` derived when omitted (G-3.3)."""

    server: Server
    protocol: str
    alias: str | None = None
    enabled: bool = True
    auth: AuthConfig | None = None
    headers: HeadersConfig | None = None
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    allow_private_network: bool = False


class UpstreamUpdate(_Model):
    """Full replace (G-3.4): omitted optional blocks are cleared; ``tags`` and ``enabled`` required."""

    server: Server
    protocol: str
    enabled: bool
    tags: list[str]
    alias: str | None = None
    auth: AuthConfig | None = None
    headers: HeadersConfig | None = None
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None
    allow_private_network: bool = False


class HttpMatch(_Model):
    methods: list[str]
    path: str
    query_allowlist: list[str] = msgspec.field(default_factory=list)
    path_suffix_mode: PathSuffixMode = "append"


class RouteMatch(_Model):
    http: HttpMatch | None = None
    # gRPC matching is LATER; accepted by the schema so the REST layer can answer 400 rather than 422.
    grpc: dict[str, Any] | None = None


class Route(_Model):
    id: str
    tenant_id: UUID
    upstream_id: str
    match: RouteMatch
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    priority: int = 0
    enabled: bool = True

    @property
    def http(self) -> HttpMatch:
        """The HTTP match of a validated route (validation guarantees it is present)."""
        if self.match.http is None:
            raise RuntimeError("route has no http match")
        return self.match.http


class RouteSpec(_Model):
    upstream_id: str
    match: RouteMatch
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    priority: int = 0
    enabled: bool = True


class RouteUpdate(_Model):
    """Full replace (G-4.1): ``tags``, ``enabled``, ``priority`` required; ``upstream_id`` may repeat, not change."""

    match: RouteMatch
    tags: list[str]
    enabled: bool
    priority: int
    upstream_id: str | None = None
    plugins: PluginsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    cors: CorsConfig | None = None


class ResolvedTarget(msgspec.Struct, kw_only=True):
    """Dry-run result of ``resolve_proxy_target`` (G-7.1): the effective upstream and the matched route."""

    upstream: Upstream
    route: Route
