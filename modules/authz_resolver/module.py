"""authz-resolver: the host of PDP plugins (P-3)."""

from __future__ import annotations

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.plugins import PluginSelector

from .sdk import (
    AUTHZ_PLUGIN_SPEC,
    AuthzInternal,
    AuthzResolverClient,
    AuthzResolverPlugin,
    EvaluationRequest,
    EvaluationResponse,
    NoPluginAvailable,
    ServiceUnavailable,
)


class AuthzResolverConfig(ConfigStruct):
    vendor: str = "hyperspot"


class AuthzResolverService:
    """Delegates to the selected plugin; maps selection failures to the SDK's errors (P-0.5 step 7)."""

    def __init__(self, selector: PluginSelector[AuthzResolverPlugin]) -> None:
        self._selector = selector

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        return await self._selector.call(
            lambda plugin: plugin.evaluate(request),
            not_found=NoPluginAvailable,
            unavailable=ServiceUnavailable,
            internal=AuthzInternal,
            label="authz",
        )


class AuthzResolver(Module):
    manifest = Manifest(
        "authz-resolver",
        "0.1.0",
        deps=("types-registry",),
        capabilities={Capability.SYSTEM},
        description="Policy decisions and row-level constraints through PDP plugins",
    )
    config_type = AuthzResolverConfig

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(AUTHZ_PLUGIN_SPEC)
        selector = ctx.plugins.selector(AUTHZ_PLUGIN_SPEC, vendor=ctx.config.vendor)
        ctx.hub.register(AuthzResolverClient, AuthzResolverService(selector))  # type: ignore[type-abstract]


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [AuthzResolver]
