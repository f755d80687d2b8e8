"""tenant-resolver's public face: a read-only single-root tenant tree with barriers (P-4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable
from uuid import UUID

import msgspec

from fabrikit.kernel.errors import Internal, InvalidArgument, NotFound, Unauthenticated, Unavailable
from fabrikit.kernel.plugins import PluginSpec
from fabrikit.kernel.security import SecurityContext

TENANT_PLUGIN_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.tenant_resolver.plugin.v1~"

TenantStatus = Literal["active", "suspended", "deleted"]
BarrierMode = Literal["respect", "ignore"]
TENANT_STATUSES: tuple[str, ...] = ("active", "suspended", "deleted")
BARRIER_MODES: tuple[str, ...] = ("respect", "ignore")


class TenantInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    status: TenantStatus = "active"
    type: str | None = None
    parent_id: UUID | None = None
    self_managed: bool = (
        False  # a barrier: the tenant manages itself, hidden from walks that respect barriers
    )


class TenantRef(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    status: TenantStatus = "active"
    type: str | None = None
    parent_id: UUID | None = None
    self_managed: bool = False

    @classmethod
    def of(cls, info: TenantInfo) -> TenantRef:
        return cls(
            id=info.id,
            status=info.status,
            type=info.type,
            parent_id=info.parent_id,
            self_managed=info.self_managed,
        )


class TenantAncestors(msgspec.Struct, frozen=True):
    tenant: TenantRef
    ancestors: list[TenantRef]  # parent first, root last


class TenantDescendants(msgspec.Struct, frozen=True):
    tenant: TenantRef
    descendants: list[TenantRef]  # pre-order


@runtime_checkable
class TenantResolverClient(Protocol):
    async def get_tenant(self, ctx: SecurityContext, tenant_id: UUID) -> TenantInfo: ...

    async def get_root_tenant(self, ctx: SecurityContext) -> TenantInfo: ...

    async def get_tenants(
        self, ctx: SecurityContext, ids: Sequence[UUID], *, status: Sequence[TenantStatus] = ()
    ) -> list[TenantInfo]: ...

    async def get_ancestors(
        self, ctx: SecurityContext, tenant_id: UUID, *, barrier_mode: BarrierMode = "respect"
    ) -> TenantAncestors: ...

    async def get_descendants(
        self,
        ctx: SecurityContext,
        tenant_id: UUID,
        *,
        status: Sequence[TenantStatus] = (),
        barrier_mode: BarrierMode = "respect",
        max_depth: int | None = None,
    ) -> TenantDescendants: ...

    async def is_ancestor(
        self,
        ctx: SecurityContext,
        ancestor_id: UUID,
        descendant_id: UUID,
        *,
        barrier_mode: BarrierMode = "respect",
    ) -> bool: ...


@runtime_checkable
class TenantResolverPlugin(TenantResolverClient, Protocol):
    """What a tenant plugin implements; identical to the client."""


TENANT_PLUGIN_SPEC = PluginSpec(
    TENANT_PLUGIN_SPEC_ID, TenantResolverPlugin, description="Tenant resolver plugin (tenant tree)"
)


class TenantNotFound(NotFound):
    code, status, title = "tenant_not_found", 404, "Tenant not found"


class Unauthorized(Unauthenticated):
    code, status, title = "unauthenticated", 401, "Authentication required"


class InvalidTenantQuery(InvalidArgument):
    code, status, title = "invalid_tenant_query", 400, "Invalid tenant query"


class NoPluginAvailable(Unavailable):
    code, status, title = "tenant_resolver_unavailable", 503, "Tenant service unavailable"


class ServiceUnavailable(Unavailable):
    code, status, title = "tenant_resolver_unavailable", 503, "Tenant service unavailable"


class TenantResolverInternal(Internal):
    pass


__all__ = [
    "BARRIER_MODES",
    "TENANT_PLUGIN_SPEC",
    "TENANT_PLUGIN_SPEC_ID",
    "TENANT_STATUSES",
    "BarrierMode",
    "InvalidTenantQuery",
    "NoPluginAvailable",
    "SecurityContext",
    "ServiceUnavailable",
    "TenantAncestors",
    "TenantDescendants",
    "TenantInfo",
    "TenantNotFound",
    "TenantRef",
    "TenantResolverClient",
    "TenantResolverInternal",
    "TenantResolverPlugin",
    "TenantStatus",
    "Unauthorized",
]
