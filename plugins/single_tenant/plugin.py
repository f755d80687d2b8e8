"""single-tenant: the caller's own tenant is the whole tree (P-4.3.1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from fabrikit.kernel import PluginContext, PluginDef, hookimpl
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.tenant_resolver.sdk import (
    TENANT_PLUGIN_SPEC_ID,
    BarrierMode,
    TenantAncestors,
    TenantDescendants,
    TenantInfo,
    TenantNotFound,
    TenantRef,
    TenantStatus,
    Unauthorized,
)

INSTANCE_ID = TENANT_PLUGIN_SPEC_ID + "hyperspot.builtin.single_tenant_resolver.plugin.v1"
DEFAULT_TENANT_NAME = "Default"


def _only_tenant(ctx: SecurityContext) -> TenantInfo:
    if ctx.is_anonymous:
        raise Unauthorized("an anonymous caller has no tenant")
    return TenantInfo(id=ctx.subject_tenant_id, name=DEFAULT_TENANT_NAME)


def _require(ctx: SecurityContext, tenant_id: UUID) -> TenantInfo:
    tenant = _only_tenant(ctx)
    if tenant_id != tenant.id:
        raise TenantNotFound(f"tenant {tenant_id} not found")
    return tenant


class SingleTenantPlugin:
    async def get_tenant(self, ctx: SecurityContext, tenant_id: UUID) -> TenantInfo:
        return _require(ctx, tenant_id)

    async def get_root_tenant(self, ctx: SecurityContext) -> TenantInfo:
        return _only_tenant(ctx)

    async def get_tenants(
        self, ctx: SecurityContext, ids: Sequence[UUID], *, status: Sequence[TenantStatus] = ()
    ) -> list[TenantInfo]:
        tenant = _only_tenant(ctx)
        wanted = tenant.id in ids and (not status or tenant.status in status)
        return [tenant] if wanted else []

    async def get_ancestors(
        self, ctx: SecurityContext, tenant_id: UUID, *, barrier_mode: BarrierMode = "respect"
    ) -> TenantAncestors:
        return TenantAncestors(TenantRef.of(_require(ctx, tenant_id)), [])

    async def get_descendants(
        self,
        ctx: SecurityContext,
        tenant_id: UUID,
        *,
        status: Sequence[TenantStatus] = (),
        barrier_mode: BarrierMode = "respect",
        max_depth: int | None = None,
    ) -> TenantDescendants:
        return TenantDescendants(TenantRef.of(_require(ctx, tenant_id)), [])

    async def is_ancestor(
        self,
        ctx: SecurityContext,
        ancestor_id: UUID,
        descendant_id: UUID,
        *,
        barrier_mode: BarrierMode = "respect",
    ) -> bool:
        _require(ctx, ancestor_id)
        _require(ctx, descendant_id)
        return False  # the only tenant is never its own ancestor

    def __repr__(self) -> str:
        return "SingleTenantPlugin()"


def _factory(pctx: PluginContext) -> SingleTenantPlugin:
    return SingleTenantPlugin()


DEFINITION = PluginDef(
    name="single-tenant",
    host="tenant-resolver",
    spec_id=TENANT_PLUGIN_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    priority=1000,
    description="Single tenant: the caller's tenant is the root and only tenant",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
