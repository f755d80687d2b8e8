"""A REST host that serves nothing: types-registry has the ``rest`` capability, and the kernel (rightly) refuses
rest modules without a host. Tests of system modules that need no HTTP use this instead of the api-gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, PluginDef
from fabrikit.kernel.http import RestRegistrar
from fabrikit.kernel.testing import RuntimeHarness


class HeadlessRestHost(Module):
    manifest = Manifest("headless-rest-host", capabilities={Capability.REST_HOST})

    def rest_prepare(self, ctx: ModuleContext) -> RestRegistrar:
        return RestRegistrar()

    def rest_finalize(self, ctx: ModuleContext, rest: Any) -> None:
        return None


def platform_harness(
    host: type[Module], plugins: Sequence[PluginDef], config: Mapping[str, Any] | None = None, **kwargs: Any
) -> RuntimeHarness:
    """types-registry + ``host`` + ``plugins`` on a headless REST host; ``config`` may add module configs."""
    from fabrikit.modules.types_registry.module import TypesRegistryModule

    modules: list[type[Module]] = [HeadlessRestHost, TypesRegistryModule, host]
    raw = dict(config or {})
    raw["modules"] = {m.manifest.name: None for m in modules} | dict(raw.get("modules") or {})
    return RuntimeHarness(modules=modules, plugins=plugins, config=raw, **kwargs)
