"""types-registry: the in-memory GTS catalog where plugin specs and instances live (P-1)."""

from __future__ import annotations

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, SystemContext, hookimpl
from fabrikit.kernel.http import RestRegistrar
from fabrikit.kernel.plugins import PluginCatalog, TypeCatalog

from .api.routes import build_router
from .config import TypesRegistryConfig
from .domain.registry import TypesRegistry
from .infra.catalog import RegistryCatalog
from .infra.schemas_dir import bundled_schemas, export_differences
from .sdk import BASE_PLUGIN_SCHEMA, TypesRegistryClient, ensure_all_ok


class TypesRegistryModule(Module):
    manifest = Manifest(
        "types-registry",
        "0.1.0",
        capabilities={Capability.SYSTEM, Capability.REST},
        description="GTS type ids and the JSON Schema registry where plugin specs and instances live",
    )
    config_type = TypesRegistryConfig

    def __init__(self) -> None:
        self.registry: TypesRegistry | None = None

    async def init(self, ctx: ModuleContext) -> None:
        cfg: TypesRegistryConfig = ctx.config
        self.registry = TypesRegistry(entity_id_fields=cfg.entity_id_fields)
        ensure_all_ok(await self.registry.register([BASE_PLUGIN_SCHEMA, *bundled_schemas()]))
        catalog = RegistryCatalog(self.registry, export_check=export_differences)
        ctx.hub.register(TypesRegistryClient, self.registry)  # type: ignore[type-abstract]
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
