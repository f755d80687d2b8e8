"""P-4.3.1 single-tenant (P-4.4 'Single-tenant')."""

from __future__ import annotations

from uuid import UUID

import pytest

from fabrikit.kernel.plugins import PluginDef
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.tenant_resolver.sdk import (
    TENANT_PLUGIN_SPEC_ID,
    TenantNotFound,
    TenantResolverPlugin,
    Unauthorized,
)
from fabrikit.plugins.single_tenant import plugin as single_tenant
from fabrikit.plugins.single_tenant.plugin import DEFINITION, SingleTenantPlugin

TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
OTHER = UUID(int=5)
CTX = SecurityContext(subject_id=UUID(int=7), subject_tenant_id=TENANT)
ANON = SecurityContext.anonymous()
plugin = SingleTenantPlugin()


async def test_the_root_is_the_caller_tenant_named_default_and_active() -> None:
    root = await plugin.get_root_tenant(CTX)
    assert (root.id, root.name, root.status, root.parent_id, root.self_managed) == (
        TENANT,
        "Default",
        "active",
        None,
        False,
    )
    assert await plugin.get_tenant(CTX, TENANT) == root


async def test_other_ids_are_not_found() -> None:
    with pytest.raises(TenantNotFound):
        await plugin.get_tenant(CTX, OTHER)
    with pytest.raises(TenantNotFound):
        await plugin.get_ancestors(CTX, OTHER)
    with pytest.raises(TenantNotFound):
        await plugin.get_descendants(CTX, OTHER)
    with pytest.raises(TenantNotFound):
        await plugin.is_ancestor(CTX, TENANT, OTHER)


async def test_tree_queries_on_the_only_tenant() -> None:
    assert [t.id for t in await plugin.get_tenants(CTX, [OTHER, TENANT, TENANT])] == [TENANT]
    assert await plugin.get_tenants(CTX, [TENANT], status=("suspended",)) == []
    assert [t.id for t in await plugin.get_tenants(CTX, [TENANT], status=("active",))] == [TENANT]
    ancestors = await plugin.get_ancestors(CTX, TENANT)
    assert (ancestors.tenant.id, ancestors.ancestors) == (TENANT, [])
    descendants = await plugin.get_descendants(CTX, TENANT, max_depth=1)
    assert (descendants.tenant.id, descendants.descendants) == (TENANT, [])
    assert await plugin.is_ancestor(CTX, TENANT, TENANT) is False


async def test_an_anonymous_caller_is_unauthorized() -> None:
    for call in (
        plugin.get_root_tenant(ANON),
        plugin.get_tenant(ANON, TENANT),
        plugin.get_tenants(ANON, [TENANT]),
        plugin.get_ancestors(ANON, TENANT),
        plugin.get_descendants(ANON, TENANT),
        plugin.is_ancestor(ANON, TENANT, TENANT),
    ):
        with pytest.raises(Unauthorized):
            await call


def test_definition_matches_the_spec() -> None:
    assert DEFINITION.name == "single-tenant"
    assert DEFINITION.host == "tenant-resolver"
    assert (
        DEFINITION.instance_id == TENANT_PLUGIN_SPEC_ID + "hyperspot.builtin.single_tenant_resolver.plugin.v1"
    )
    assert DEFINITION.priority == 1000
    assert DEFINITION.config_type is None
    assert isinstance(plugin, TenantResolverPlugin)
    registered: list[PluginDef] = []
    single_tenant.fabrikit_register_plugins(registered.append, {})
    assert registered == [DEFINITION]
