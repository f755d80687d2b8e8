"""Small host modules and plugin definitions that run against the real types-registry module."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext
from fabrikit.kernel.http import RestRegistrar
from fabrikit.kernel.plugins import PluginContext, PluginDef, PluginSelector, PluginSpec, PluginUnavailable
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.modules.types_registry.sdk import DRAFT_07, TypesRegistryClient, ensure_all_ok

SPEC_ID = "gts.x.core.modkit.plugin.v1~x.test.greeter.plugin.v1~"
DIRECT_TYPE_ID = "gts.x.test.greeter.note.v1~"


@runtime_checkable
class Greeter(Protocol):
    async def greet(self) -> str: ...


class GreeterProps(msgspec.Struct):
    language: str


SPEC = PluginSpec(SPEC_ID, iface=Greeter, properties=GreeterProps, description="says hello")


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    async def greet(self) -> str:
        return self.name


def instance_id(name: str) -> str:
    return SPEC_ID + f"acme.test.greeter.{name.replace('-', '_')}.v1"


def greeter(name: str, properties: Mapping[str, Any] | None = None, **kw: Any) -> PluginDef:
    def factory(pctx: PluginContext) -> Named:
        return Named(pctx.name)

    return PluginDef(
        name,
        host="host",
        spec_id=SPEC_ID,
        instance_id=instance_id(name),
        factory=factory,
        properties=properties if properties is not None else {"language": "en"},
        **kw,
    )


class Host(Module):
    """Registers its plugin spec like every host, one type directly, and probes selection during init."""

    manifest = Manifest("host", deps=("types-registry",))
    spec: PluginSpec = SPEC

    def __init__(self) -> None:
        self.selector: PluginSelector[Any] | None = None
        self.early_probe: BaseException | None = None

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(self.spec)
        registry = ctx.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        note = {"$id": "gts://" + DIRECT_TYPE_ID, "$schema": DRAFT_07, "type": "object"}
        ensure_all_ok(await registry.register([note]))
        # Selection belongs after post_init; probing here shows that a failure is reported, never cached.
        self.selector = ctx.plugins.selector(self.spec, vendor="hyperspot")
        try:
            await self.selector.get()
        except PluginUnavailable as exc:
            self.early_probe = exc


class HeadlessRestHost(Module):
    """types-registry has the ``rest`` capability; this host accepts its routes and serves nothing."""

    manifest = Manifest("headless-rest-host", capabilities={Capability.REST_HOST})

    def rest_prepare(self, ctx: ModuleContext) -> RestRegistrar:
        return RestRegistrar()

    def rest_finalize(self, ctx: ModuleContext, rest: Any) -> None:
        return None


def harness(home: Path, *extra: type[Module] | PluginDef, **registry_config: Any) -> RuntimeHarness:
    """types-registry (with ``registry_config``) on a headless REST host, plus test modules and plugins."""
    mods: list[type[Module]] = [
        HeadlessRestHost,
        TypesRegistryModule,
        *(m for m in extra if isinstance(m, type)),
    ]
    plugins = [p for p in extra if isinstance(p, PluginDef)]
    raw: dict[str, Any] = {"modules": {m.manifest.name: None for m in mods}}
    if registry_config:
        raw["modules"]["types-registry"] = {"config": registry_config}
    return RuntimeHarness(modules=mods, plugins=plugins, config=raw, home=home)
