"""tenant-resolver: the host of tenant-tree plugins (P-4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.plugins import PluginSelector
from fabrikit.kernel.security import SecurityContext

from .sdk import (
    BARRIER_MODES,
    TENANT_PLUGIN_SPEC,
    TENANT_STATUSES,
    BarrierMode,
    InvalidTenantQuery,
    NoPluginAvailable,
    ServiceUnavailable,
    TenantAncestors,
    TenantDescendants,
    TenantInfo,
    TenantResolverClient,
    TenantResolverInternal,
    TenantResolverPlugin,
    TenantStatus,
)

R = TypeVar("R")


class TenantResolverConfig(ConfigStruct):
    vendor: str = "hyperspot"


def _check_barrier(mode: str) -> None:
    if mode not in BARRIER_MODES:
        raise InvalidTenantQuery(f"barrier_mode must be one of {', '.join(BARRIER_MODES)}")


def _check_status(status: Sequence[str]) -> tuple[TenantStatus, ...]:
    if isinstance(status, str):
        raise InvalidTenantQuery("status must be a sequence of statuses, not a string")
    unknown = sorted({s for s in status if s not in TENANT_STATUSES})
    if unknown:
        raise InvalidTenantQuery(f"unknown tenant status(es) {unknown}; known: {', '.join(TENANT_STATUSES)}")
    return tuple(status)  # type: ignore[arg-type]  # checked above


class TenantResolverService:
    """Validates arguments, delegates to the selected plugin, maps failures (P-0.5 step 7)."""

    def __init__(self, selector: PluginSelector[TenantResolverPlugin]) -> None:
        self._selector = selector

    async def _call(self, fn: Callable[[TenantResolverPlugin], Awaitable[R]]) -> R:
        return await self._selector.call(
            fn,
            not_found=NoPluginAvailable,
            unavailable=ServiceUnavailable,
            internal=TenantResolverInternal,
            label="tenant",
        )

    async def get_tenant(self, ctx: SecurityContext, tenant_id: UUID) -> TenantInfo:
        return await self._call(lambda p: p.get_tenant(ctx, tenant_id))

    async def get_root_tenant(self, ctx: SecurityContext) -> TenantInfo:
        return await self._call(lambda p: p.get_root_tenant(ctx))

    async def get_tenants(
        self, ctx: SecurityContext, ids: Sequence[UUID], *, status: Sequence[TenantStatus] = ()
    ) -> list[TenantInfo]:
        statuses = _check_status(status)
        return await self._call(lambda p: p.get_tenants(ctx, list(ids), status=statuses))

    async def get_ancestors(
        self, ctx: SecurityContext, tenant_id: UUID, *, barrier_mode: BarrierMode = "respect"
    ) -> TenantAncestors:
        _check_barrier(barrier_mode)
        return await self._call(lambda p: p.get_ancestors(ctx, tenant_id, barrier_mode=barrier_mode))

    async def get_descendants(
        self,
        ctx: SecurityContext,
        tenant_id: UUID,
        *,
        status: Sequence[TenantStatus] = (),
        barrier_mode: BarrierMode = "respect",
        max_depth: int | None = None,
    ) -> TenantDescendants:
        statuses = _check_status(status)
        _check_barrier(barrier_mode)
        if max_depth is not None and (isinstance(max_depth, bool) or max_depth < 0):
            raise InvalidTenantQuery("max_depth must be None or an integer >= 0")
        return await self._call(
            lambda p: p.get_descendants(
                ctx, tenant_id, status=statuses, barrier_mode=barrier_mode, max_depth=max_depth
            )
        )

    async def is_ancestor(
        self,
        ctx: SecurityContext,
        ancestor_id: UUID,
        descendant_id: UUID,
        *,
        barrier_mode: BarrierMode = "respect",
    ) -> bool:
        _check_barrier(barrier_mode)
        return await self._call(
            lambda p: p.is_ancestor(ctx, ancestor_id, descendant_id, barrier_mode=barrier_mode)
        )


class TenantResolver(Module):
    manifest = Manifest(
        "tenant-resolver",
        "0.1.0",
        deps=("types-registry",),
        capabilities={Capability.SYSTEM},
        description="Read-only tenant tree with barriers, served by plugins",
    )
    config_type = TenantResolverConfig

    async def init(self, ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(TENANT_PLUGIN_SPEC)
        selector = ctx.plugins.selector(TENANT_PLUGIN_SPEC, vendor=ctx.config.vendor)
        ctx.hub.register(TenantResolverClient, TenantResolverService(selector))  # type: ignore[type-abstract]


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [TenantResolver]
