"""static-tenants: a tenant tree from configuration (P-4.3.2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from fabrikit.kernel import ConfigStruct, PluginContext, PluginDef, hookimpl
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.tenant_resolver.sdk import (
    TENANT_PLUGIN_SPEC_ID,
    BarrierMode,
    TenantAncestors,
    TenantDescendants,
    TenantInfo,
    TenantRef,
    TenantStatus,
)

from ._tree import TenantTree, tree_problems

PLUGIN_NAME = "static-tenants"
INSTANCE_ID = TENANT_PLUGIN_SPEC_ID + "hyperspot.builtin.static_tenant_resolver.plugin.v1"


class TenantEntry(ConfigStruct):
    id: UUID
    name: str
    status: TenantStatus = "active"
    type: str | None = None
    parent_id: UUID | None = None
    self_managed: bool = False

    def info(self) -> TenantInfo:
        return TenantInfo(
            id=self.id,
            name=self.name,
            status=self.status,
            type=self.type,
            parent_id=self.parent_id,
            self_managed=self.self_managed,
        )


class StaticTenantsConfig(ConfigStruct):
    tenants: tuple[TenantEntry, ...] = ()

    def validate(self) -> None:
        if not self.tenants:
            return
        problems = [ValueError(f"tenants: {p}") for p in tree_problems([t.info() for t in self.tenants])]
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ExceptionGroup("invalid tenant tree", problems)


class StaticTenantsPlugin:
    """Serves the configured tree; the caller's context is ignored."""

    def __init__(self, config: StaticTenantsConfig) -> None:
        self._tree = TenantTree([t.info() for t in config.tenants])

    async def get_tenant(self, ctx: SecurityContext, tenant_id: UUID) -> TenantInfo:
        return self._tree.get(tenant_id)

    async def get_root_tenant(self, ctx: SecurityContext) -> TenantInfo:
        return self._tree.root

    async def get_tenants(
        self, ctx: SecurityContext, ids: Sequence[UUID], *, status: Sequence[TenantStatus] = ()
    ) -> list[TenantInfo]:
        return self._tree.many(ids, frozenset(status))

    async def get_ancestors(
        self, ctx: SecurityContext, tenant_id: UUID, *, barrier_mode: BarrierMode = "respect"
    ) -> TenantAncestors:
        ancestors = self._tree.ancestors(tenant_id, respect=barrier_mode != "ignore")
        return TenantAncestors(TenantRef.of(self._tree.get(tenant_id)), ancestors)

    async def get_descendants(
        self,
        ctx: SecurityContext,
        tenant_id: UUID,
        *,
        status: Sequence[TenantStatus] = (),
        barrier_mode: BarrierMode = "respect",
        max_depth: int | None = None,
    ) -> TenantDescendants:
        descendants = self._tree.descendants(
            tenant_id, statuses=frozenset(status), respect=barrier_mode != "ignore", max_depth=max_depth
        )
        return TenantDescendants(TenantRef.of(self._tree.get(tenant_id)), descendants)

    async def is_ancestor(
        self,
        ctx: SecurityContext,
        ancestor_id: UUID,
        descendant_id: UUID,
        *,
        barrier_mode: BarrierMode = "respect",
    ) -> bool:
        return self._tree.is_ancestor(ancestor_id, descendant_id, respect=barrier_mode != "ignore")

    def __repr__(self) -> str:
        return f"StaticTenantsPlugin(tenants={len(self._tree)})"


def _factory(pctx: PluginContext) -> StaticTenantsPlugin:
    if not pctx.config.tenants:
        # Reached only when registered by hand: the entry-point hook skips an empty tree.
        raise ValueError("static-tenants has no tenants; leave it unregistered to fall back to single-tenant")
    return StaticTenantsPlugin(pctx.config)


DEFINITION = PluginDef(
    name=PLUGIN_NAME,
    host="tenant-resolver",
    spec_id=TENANT_PLUGIN_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    config_type=StaticTenantsConfig,
    priority=100,
    description="Static tenant tree from configuration",
)


def has_tenants(plugins_section: Mapping[str, Any]) -> bool:
    """Whether ``plugins.static-tenants.config.tenants`` is anything but absent or empty.

    Malformed sections count as present, so that config validation reports them.
    """
    entry = plugins_section.get(PLUGIN_NAME)
    if entry is None:
        return False
    if not isinstance(entry, Mapping):
        return True
    config = entry.get("config")
    if config is None:
        return False
    if not isinstance(config, Mapping):
        return True
    if set(config) - {"tenants"}:
        return True
    return config.get("tenants") not in (None, [], ())


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    # An empty tree registers nothing, so the single-tenant fallback (priority 1000) stays in charge.
    if has_tenants(config):
        register(DEFINITION)
