"""The oagw module (G-1): wiring in ``init``, aiohttp sessions in ``start``/``stop``, REST in ``register_rest``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from fabrikit.kernel import Capability, ClientScope, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.http import RestRegistrar
from fabrikit.kernel.plugins import PluginSpec
from fabrikit.modules.types_registry.sdk import DRAFT_07, TypesRegistryClient

from ._sdk_oauth2 import OAuth2TokenSource
from .api.routes import build_routers
from .config import OagwConfig
from .domain.limiter import RateLimiterRegistry
from .domain.netpolicy import NetworkPolicy
from .domain.pool import EndpointPools
from .domain.repository import (
    InMemoryRouteRepository,
    InMemoryUpstreamRepository,
    RouteRepository,
    UpstreamRepository,
)
from .infra.builtin_plugins import BUILTIN_AUTH, BUILTIN_GUARDS, BUILTIN_TRANSFORMS
from .infra.engine import AiohttpEngine
from .infra.health import HealthChecker
from .infra.oauth2 import OAuth2Tokens
from .infra.platform import Platform
from .infra.sql_repository import SqlRouteRepository, SqlUpstreamRepository
from .infra.tables import MIGRATIONS
from .pipeline import PluginDirectory, ProxyPipeline
from .sdk import (
    AUTH_PLUGIN_SPEC_ID,
    GUARD_PLUGIN_SPEC_ID,
    HTTP_PROTOCOL_ID,
    PROTOCOL_TYPE_ID,
    ROUTE_TYPE_ID,
    TRANSFORM_PLUGIN_SPEC_ID,
    UPSTREAM_TYPE_ID,
    AuthPlugin,
    GuardPlugin,
    OagwClient,
    Route,
    TransformPlugin,
    Upstream,
)
from .service import OagwService

AUTH_PLUGIN_SPEC = PluginSpec(
    AUTH_PLUGIN_SPEC_ID, AuthPlugin, description="oagw auth plugin: adds credentials to outbound requests"
)
GUARD_PLUGIN_SPEC = PluginSpec(
    GUARD_PLUGIN_SPEC_ID,
    GuardPlugin,
    description="oagw guard plugin: allows or rejects requests and responses",
)
TRANSFORM_PLUGIN_SPEC = PluginSpec(
    TRANSFORM_PLUGIN_SPEC_ID, TransformPlugin, description="oagw transform plugin: edits headers and query"
)
PLUGIN_SPECS = (AUTH_PLUGIN_SPEC, GUARD_PLUGIN_SPEC, TRANSFORM_PLUGIN_SPEC)


def _type_schema(gts_id: str, model: type[msgspec.Struct] | None, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"$id": "gts://" + gts_id, "$schema": DRAFT_07, "description": description}
    if model is None:
        schema.update({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]})
        return schema
    (body,), defs = msgspec.json.schema_components([model], ref_template="#/definitions/{name}")
    schema.update(defs[model.__name__] if "$ref" in body else body)
    schema["definitions"] = {k: v for k, v in defs.items() if k != model.__name__}
    return schema


def gts_types() -> list[dict[str, Any]]:
    """The types of G-1.3 plus the one supported protocol instance."""
    return [
        _type_schema(UPSTREAM_TYPE_ID, Upstream, "oagw upstream (G-3)"),
        _type_schema(ROUTE_TYPE_ID, Route, "oagw route (G-4)"),
        _type_schema(PROTOCOL_TYPE_ID, None, "oagw upstream protocol"),
        {"id": HTTP_PROTOCOL_ID},
    ]


class Oagw(Module):
    manifest = Manifest(
        "oagw",
        "0.1.0",
        deps=("types-registry", "tenant-resolver", "authz-resolver", "credstore"),
        capabilities={Capability.SYSTEM, Capability.REST, Capability.STATEFUL, Capability.DB},
        description="Outbound API gateway: the only way modules call third-party HTTP APIs",
    )
    config_type = OagwConfig

    def __init__(self) -> None:
        self.service: OagwService | None = None
        self.engine: AiohttpEngine | None = None
        self.pipeline: ProxyPipeline | None = None
        self.tokens: OAuth2Tokens | None = None
        self.health: HealthChecker | None = None

    def migrations(self) -> Sequence[Any]:
        # Migrations run before the config is known to the module, so the two (empty) tables exist in every
        # deployment; rows are written only with `storage: db` (G-1.1, G-6.2).
        return MIGRATIONS

    async def init(self, ctx: ModuleContext) -> None:
        cfg: OagwConfig = ctx.config
        registry = ctx.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        results = await registry.register(gts_types())
        failures = [str(getattr(r, "error", "")) for r in results if getattr(r, "error", None)]
        if failures:
            raise RuntimeError(f"oagw: GTS types rejected: {'; '.join(failures)}")
        for spec in PLUGIN_SPECS:
            await ctx.plugins.register_spec(spec)
        for iface, builtins in (
            (AuthPlugin, BUILTIN_AUTH),
            (GuardPlugin, BUILTIN_GUARDS),
            (TransformPlugin, BUILTIN_TRANSFORMS),
        ):
            for instance_id, plugin in builtins.items():
                ctx.hub.register_scoped(iface, ClientScope.gts_id(instance_id), plugin)  # type: ignore[type-abstract]

        policy = NetworkPolicy(cfg.private_network_allowlist)
        platform = Platform(ctx.hub, tenant_chain_ttl_secs=cfg.tenant_chain_cache_ttl_secs)
        limiters = RateLimiterRegistry()
        pools = EndpointPools()
        self.engine = AiohttpEngine(cfg, policy)
        engine = self.engine
        self.tokens = OAuth2Tokens(
            lambda: engine.guarded_session,
            policy,
            ttl_secs=cfg.token_cache_ttl_secs,
            capacity=cfg.token_cache_capacity,
            timeout_secs=cfg.proxy_timeout_secs,
            allow_http=cfg.allow_http_upstream,
        )
        upstreams: UpstreamRepository
        routes: RouteRepository
        if cfg.storage == "db":
            db = ctx.db_required()
            upstreams, routes = SqlUpstreamRepository(db), SqlRouteRepository(db)
        else:
            upstreams, routes = InMemoryUpstreamRepository(), InMemoryRouteRepository()
        self.service = OagwService(
            upstreams=upstreams,
            routes=routes,
            platform=platform,
            limiters=limiters,
            cache_ttl_secs=cfg.config_cache_ttl_secs,
        )
        self.pipeline = ProxyPipeline(
            config=cfg,
            service=self.service,
            platform=platform,
            engine=self.engine,
            policy=policy,
            plugins=PluginDirectory(ctx.hub),
            limiters=limiters,
            tokens=self.tokens,
            pools=pools,
        )
        self.health = HealthChecker(pools, policy, connect_timeout_secs=cfg.connect_timeout_secs)
        self.service.proxy = self.pipeline
        ctx.hub.register(OagwClient, self.service)  # type: ignore[type-abstract]
        ctx.hub.register(OAuth2TokenSource, self.tokens)  # type: ignore[type-abstract]

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        assert self.service is not None
        rest.include(build_routers(self.service), module=ctx.name)

    async def start(self, ctx: ModuleContext) -> None:
        assert self.engine is not None
        await self.engine.start()
        if self.health is not None:
            self.health.start()

    async def stop(self, ctx: ModuleContext) -> None:
        if self.health is not None:
            await self.health.close()
        if self.engine is not None:
            await self.engine.close()


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [Oagw]
