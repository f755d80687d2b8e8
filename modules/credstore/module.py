"""credstore: the host of secret-store plugins (P-5)."""

from __future__ import annotations

import structlog

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.plugins import PluginSelector
from fabrikit.kernel.security import SecurityContext

from .sdk import (
    CREDSTORE_PLUGIN_SPEC,
    CredStoreClient,
    CredStoreInternal,
    CredStorePlugin,
    GetSecretResponse,
    NoPluginAvailable,
    SecretRef,
    ServiceUnavailable,
)

_log = structlog.get_logger("fabrikit.credstore")


class CredStoreConfig(ConfigStruct):
    vendor: str = "hyperspot"


class CredStoreService:
    """Parses the reference first, then delegates to the selected plugin (P-5.1.1)."""

    def __init__(self, selector: PluginSelector[CredStorePlugin]) -> None:
        self._selector = selector

    async def get(self, ctx: SecurityContext, ref: SecretRef | str) -> GetSecretResponse | None:
        parsed = SecretRef.parse(ref)
        plugin = await self._selector.get_or(not_found=NoPluginAvailable, unavailable=ServiceUnavailable)
        try:
            meta = await plugin.get(ctx, parsed)
        except DomainError:
            raise
        except Exception as exc:
            self._selector.invalidate()
            # Neither the plugin's message nor its traceback is kept: either might quote a value.
            _log.error(
                "credstore_plugin_failed",
                key=parsed.name,
                tenant_id=str(ctx.subject_tenant_id),
                error_type=type(exc).__name__,
            )
            raise CredStoreInternal(f"credstore plugin failed: {type(exc).__name__}") from None
        if meta is None:
            return None
        return GetSecretResponse(
            value=meta.value, owner_tenant_id=meta.owner_tenant_id, sharing=meta.sharing, is_inherited=False
        )


class CredStore(Module):
    manifest = Manifest(
        "credstore",
        "0.1.0",
        deps=("types-registry",),
        capabilities={Capability.SYSTEM},
        description="Tenant-scoped secrets by cred:// reference, served by plugins",
    )
    config_type = CredStoreConfig

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(CREDSTORE_PLUGIN_SPEC)
        selector = ctx.plugins.selector(CREDSTORE_PLUGIN_SPEC, vendor=ctx.config.vendor)
        ctx.hub.register(CredStoreClient, CredStoreService(selector))  # type: ignore[type-abstract]


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [CredStore]
