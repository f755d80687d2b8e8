"""authn-resolver: the host of authentication plugins (P-2)."""

from __future__ import annotations

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.plugins import PluginNotFound, PluginSelector, PluginUnavailable

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

    async def _plugin(self) -> AuthnResolverPlugin:
        try:
            return await self._selector.get()
        except PluginNotFound as exc:
            raise NoPluginAvailable(str(exc)) from None
        except PluginUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None

    async def authenticate(self, bearer_token: str) -> AuthenticationResult:
        # Runs for every authenticated request: the selection inlined (`_plugin`), one coroutine fewer.
        try:
            plugin = await self._selector.get()
        except PluginNotFound as exc:
            raise NoPluginAvailable(str(exc)) from None
        except PluginUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        try:
            return await plugin.authenticate(bearer_token)
        except DomainError:
            raise
        except Exception as exc:
            self._selector.invalidate()
            raise AuthnInternal(f"authn plugin failed: {type(exc).__name__}") from exc

    async def exchange_client_credentials(self, request: ClientCredentialsRequest) -> AuthenticationResult:
        plugin = await self._plugin()
        try:
            return await plugin.exchange_client_credentials(request)
        except DomainError:
            raise
        except Exception as exc:
            self._selector.invalidate()
            raise AuthnInternal(f"authn plugin failed: {type(exc).__name__}") from exc


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
