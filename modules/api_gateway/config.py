"""``modules.api-gateway.config`` (P-6.2)."""

from __future__ import annotations

from typing import Literal

import msgspec

from fabrikit.kernel import ConfigStruct

from .domain.paths import normalize_prefix
from .domain.scopes import compile_rules

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class CorsConfig(ConfigStruct):
    allowed_origins: tuple[str, ...] = ("*",)
    allowed_methods: tuple[str, ...] = _METHODS
    allowed_headers: tuple[str, ...] = ("*",)
    allow_credentials: bool = False
    max_age_seconds: int = 600


class OpenApiInfo(ConfigStruct):
    title: str = "API Documentation"
    version: str = "0.1.0"
    description: str | None = None


class RateLimitDefaults(ConfigStruct):
    rps: int = 50
    burst: int = 100
    in_flight: int = 64

    def validate(self) -> None:
        if min(self.rps, self.burst, self.in_flight) <= 0:
            raise ValueError("rps, burst and in_flight must all be > 0")


class Defaults(ConfigStruct):
    rate_limit: RateLimitDefaults = msgspec.field(default_factory=RateLimitDefaults)
    body_limit_bytes: int = 16 * 1024 * 1024
    timeout_s: float = 30.0


class RouteRule(ConfigStruct):
    path: str
    required_scopes: tuple[str, ...]
    method: str | None = None


class RoutePolicies(ConfigStruct):
    enabled: bool = False
    rules: tuple[RouteRule, ...] = ()


class GatewayConfig(ConfigStruct):
    bind_addr: str = "127.0.0.1:8086"
    prefix_path: str = ""
    enable_docs: bool = False
    auth_disabled: bool = False
    require_auth_by_default: bool = True
    cors_enabled: bool = False
    cors: CorsConfig = msgspec.field(default_factory=CorsConfig)
    openapi: OpenApiInfo = msgspec.field(default_factory=OpenApiInfo)
    defaults: Defaults = msgspec.field(default_factory=Defaults)
    route_policies: RoutePolicies = msgspec.field(default_factory=RoutePolicies)
    drain_timeout_s: float = 15.0
    metrics_path: str | None = "/metrics"
    access_log: bool = True

    def validate(self) -> None:
        host, sep, port = self.bind_addr.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"bind_addr '{self.bind_addr}' must be host:port")
        normalize_prefix(self.prefix_path)
        if self.cors_enabled and self.cors.allow_credentials and "*" in self.cors.allowed_origins:
            raise ValueError("cors.allow_credentials cannot be combined with allowed_origins '*'")
        if self.auth_disabled and self.route_policies.enabled:
            raise ValueError("auth_disabled cannot be combined with route_policies.enabled")
        if self.route_policies.enabled:
            compile_rules([(r.path, r.method, r.required_scopes) for r in self.route_policies.rules])
        if self.drain_timeout_s < 0:
            raise ValueError("drain_timeout_s must be >= 0")

    @property
    def host(self) -> str:
        return self.bind_addr.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.bind_addr.rpartition(":")[2])

    @property
    def prefix(self) -> str:
        return normalize_prefix(self.prefix_path)

    @property
    def mode(self) -> Literal["disabled", "enabled"]:
        return "disabled" if self.auth_disabled else "enabled"
