"""types-registry: the in-memory GTS catalog where plugin specs and instances live (P-1)."""

from __future__ import annotations

from functools import partial

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, SystemContext, hookimpl
from fabrikit.kernel.http import RestRegistrar
from fabrikit.kernel.plugins import PluginCatalog, TypeCatalog

from .api.routes import build_router
from .config import TypesRegistryConfig
from .domain.registry import TypesRegistry
from .infra.catalog import RegistryCatalog
from .infra.origins import AttributingClient, Origins, initializing_module
from .infra.schemas_dir import SCHEMAS_ORIGIN, bundled_schemas
from .sdk import BASE_PLUGIN_SCHEMA, MODULE_NAME, TypesRegistryClient, ensure_all_ok


class TypesRegistryModule(Module):
    manifest = Manifest(
        MODULE_NAME,
        "0.1.0",
        capabilities={Capability.SYSTEM, Capability.REST},
        description="GTS type ids and the JSON Schema registry where plugin specs and instances live",
    )
    config_type = TypesRegistryConfig

    def __init__(self) -> None:
        self.registry: TypesRegistry | None = None
        self.origins = Origins()

    async def init(self, ctx: ModuleContext) -> None:
        cfg: TypesRegistryConfig = ctx.config
        registry = self.registry = TypesRegistry(entity_id_fields=cfg.entity_id_fields)
        results = await registry.register([BASE_PLUGIN_SCHEMA])
        ensure_all_ok(results)
        self.origins.record(results, MODULE_NAME)
        if cfg.load_bundled_schemas:
            # Files first: a module registering a schema that drifted from its file then fails loudly.
            results = await registry.register(bundled_schemas())
            ensure_all_ok(results)
            self.origins.record(results, SCHEMAS_ORIGIN)
        catalog = RegistryCatalog(registry, self.origins)
        client = AttributingClient(registry, self.origins, partial(initializing_module, ctx.runtime))
        ctx.hub.register(TypesRegistryClient, client)  # type: ignore[type-abstract]
        ctx.hub.register(PluginCatalog, catalog)  # type: ignore[type-abstract]
        ctx.hub.register(TypeCatalog, catalog)  # type: ignore[type-abstract]

    async def post_init(self, sys: SystemContext) -> None:
        assert self.registry is not None
        self.registry.activate()

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        assert self.registry is not None
        rest.include(build_router(self.registry, ctx.config.max_batch_size), module=ctx.name)


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [TypesRegistryModule]
