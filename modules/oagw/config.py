"""``modules.oagw.config`` (G-2); unknown keys are rejected by ``ConfigStruct``."""

from __future__ import annotations

from typing import Literal

import msgspec

from fabrikit.kernel import ConfigStruct

from .domain.netpolicy import NetworkAllowlist
from .sdk import ValidationError


class CircuitBreakerSettings(ConfigStruct):
    enabled: bool = False
    failure_threshold: int = 5
    open_secs: float = 30
    half_open_probes: int = 3

    def validate(self) -> None:
        if self.failure_threshold < 1 or self.half_open_probes < 1:
            raise ValueError("failure_threshold and half_open_probes must be >= 1")
        if self.open_secs <= 0:
            raise ValueError("open_secs must be > 0")


class OagwConfig(ConfigStruct):
    proxy_timeout_secs: float = 30
    connect_timeout_secs: float = 10
    streaming_idle_timeout_secs: float = 300
    max_body_size_bytes: int = 104_857_600
    allow_http_upstream: bool = False
    private_network_allowlist: tuple[str, ...] = ()
    token_cache_ttl_secs: float = 300
    token_cache_capacity: int = 10_000
    pool_max_connections: int = 512
    pool_idle_timeout_secs: float = 90
    storage: Literal["memory", "db"] = "memory"
    config_cache_ttl_secs: float = 5
    tenant_chain_cache_ttl_secs: float = 60
    circuit_breaker: CircuitBreakerSettings = msgspec.field(default_factory=CircuitBreakerSettings)

    def validate(self) -> None:
        for name in (
            "proxy_timeout_secs",
            "connect_timeout_secs",
            "streaming_idle_timeout_secs",
            "pool_idle_timeout_secs",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.max_body_size_bytes < 0:
            raise ValueError("max_body_size_bytes must be >= 0")
        if self.token_cache_capacity < 1 or self.pool_max_connections < 1:
            raise ValueError("token_cache_capacity and pool_max_connections must be >= 1")
        if (
            self.token_cache_ttl_secs < 0
            or self.config_cache_ttl_secs < 0
            or self.tenant_chain_cache_ttl_secs < 0
        ):
            raise ValueError("cache TTLs must be >= 0")
        try:
            NetworkAllowlist(self.private_network_allowlist)
        except ValidationError as exc:
            raise ValueError(exc.detail) from None
