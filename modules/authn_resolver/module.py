"""authn-resolver: the host of authentication plugins (P-2)."""

from __future__ import annotations

from typing import Any

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.plugins import PluginSelector

from .sdk import (
    AUTHN_PLUGIN_SPEC,
    AuthenticationResult,
    AuthnInternal,
    AuthnResolverClient,
    AuthnResolverPlugin,
    ClientCredentialsRequest,
    NoPluginAvailable,
    ServiceUnavailable,
)


class AuthnResolverConfig(ConfigStruct):
    vendor: str = "hyperspot"


class AuthnResolverService:
    """Delegates to the selected plugin; maps selection failures to the SDK's errors (P-0.5 step 7)."""

    def __init__(self, selector: PluginSelector[AuthnResolverPlugin]) -> None:
        self._selector = selector

    async def authenticate(self, bearer_token: str) -> AuthenticationResult:
        return await self._selector.call(lambda plugin: plugin.authenticate(bearer_token), **self._errors)

    async def exchange_client_credentials(self, request: ClientCredentialsRequest) -> AuthenticationResult:
        return await self._selector.call(
            lambda plugin: plugin.exchange_client_credentials(request), **self._errors
        )

    _errors: dict[str, Any] = {
        "not_found": NoPluginAvailable,
        "unavailable": ServiceUnavailable,
        "internal": AuthnInternal,
        "label": "authn",
    }


class AuthnResolver(Module):
    manifest = Manifest(
        "authn-resolver",
        "0.1.0",
        deps=("types-registry",),
        capabilities={Capability.SYSTEM},
        description="Turns bearer tokens and client credentials into a SecurityContext through plugins",
    )
    config_type = AuthnResolverConfig

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(AUTHN_PLUGIN_SPEC)
        selector = ctx.plugins.selector(AUTHN_PLUGIN_SPEC, vendor=ctx.config.vendor)
        ctx.hub.register(AuthnResolverClient, AuthnResolverService(selector))  # type: ignore[type-abstract]


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [AuthnResolver]
