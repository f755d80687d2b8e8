"""A greeter extension point, its host module and plugin definitions for plugin-host tests."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import msgspec

from fabrikit.kernel import ConfigStruct, Manifest, Module, ModuleContext
from fabrikit.kernel.plugins import PluginContext, PluginDef, PluginSpec

SPEC_ID = "gts.x.core.modkit.plugin.v1~x.test.greeter.plugin.v1~"


@runtime_checkable
class Greeter(Protocol):
    async def greet(self) -> str: ...


class GreeterProps(msgspec.Struct):
    language: str


SPEC = PluginSpec(SPEC_ID, iface=Greeter, properties=GreeterProps, description="says hello")


class Named:
    def __init__(self, pctx: PluginContext) -> None:
        self.pctx = pctx

    async def greet(self) -> str:
        return self.pctx.name


class GreeterConfig(ConfigStruct):
    greeting: str = "hello"


def instance_id(name: str) -> str:
    return SPEC_ID + f"acme.test.greeter.{name.replace('-', '_')}.v1"


def greeter(name: str, *, host: str = "host", built: list[str] | None = None, **kw: Any) -> PluginDef:
    def factory(pctx: PluginContext) -> Named:
        if built is not None:
            built.append(pctx.name)
        return Named(pctx)

    kw.setdefault("properties", {"language": "en"})
    return PluginDef(name, host=host, spec_id=SPEC_ID, instance_id=instance_id(name), factory=factory, **kw)


class Host(Module):
    manifest = Manifest("host")

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(SPEC)
