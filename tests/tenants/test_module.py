"""tenant-resolver through the real runtime: plugin selection by vendor and priority (P-0.5, P-4.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel import StartupError
from fabrikit.kernel.security import SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.tenant_resolver import module as tenant_module
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.tenant_resolver.sdk import (
    InvalidTenantQuery,
    NoPluginAvailable,
    TenantNotFound,
    TenantResolverClient,
)
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE
from fabrikit.plugins.static_tenants.plugin import DEFINITION as STATIC
from tests.authz.headless import platform_harness

CALLER_TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
ROOT, CHILD = UUID(int=1), UUID(int=2)
CTX = SecurityContext(subject_id=UUID(int=7), subject_tenant_id=CALLER_TENANT)
TREE = {
    "tenants": [
        {"id": str(ROOT), "name": "root"},
        {"id": str(CHILD), "name": "child", "parent_id": str(ROOT)},
    ]
}


def harness(plugins: list[Any], config: dict[str, Any] | None = None, **kw: Any) -> RuntimeHarness:
    return platform_harness(TenantResolver, plugins, config, **kw)


def test_manifest() -> None:
    m = TenantResolver.manifest
    assert (m.name, m.deps, {c.value for c in m.capabilities}) == (
        "tenant-resolver",
        ("types-registry",),
        {"system"},
    )
    assert tenant_module.fabrikit_modules() == [TenantResolver]


async def test_single_tenant_serves_the_caller_tenant() -> None:
    async with harness([SINGLE]) as h:
        client = h.hub.get(TenantResolverClient)  # type: ignore[type-abstract]
        assert (await client.get_root_tenant(CTX)).id == CALLER_TENANT
        with pytest.raises(TenantNotFound):
            await client.get_tenant(CTX, ROOT)


async def test_a_static_tree_wins_over_single_tenant_on_priority() -> None:
    async with harness([SINGLE, STATIC], {"plugins": {"static-tenants": {"config": TREE}}}) as h:
        client = h.hub.get(TenantResolverClient)  # type: ignore[type-abstract]
        assert (await client.get_root_tenant(CTX)).id == ROOT
        assert [t.id for t in (await client.get_ancestors(CTX, CHILD)).ancestors] == [ROOT]
        assert await client.is_ancestor(CTX, ROOT, CHILD) is True


async def test_priority_override_in_config_changes_the_winner() -> None:
    config = {"plugins": {"static-tenants": {"config": TREE, "priority": 2000}}}
    async with harness([SINGLE, STATIC], config) as h:
        client = h.hub.get(TenantResolverClient)  # type: ignore[type-abstract]
        assert (await client.get_root_tenant(CTX)).id == CALLER_TENANT


async def test_wrong_vendor_is_no_plugin_available() -> None:
    async with harness([SINGLE], {"modules": {"tenant-resolver": {"config": {"vendor": "acme"}}}}) as h:
        client = h.hub.get(TenantResolverClient)  # type: ignore[type-abstract]
        with pytest.raises(NoPluginAvailable):
            await client.get_root_tenant(CTX)


async def test_the_host_rejects_bad_arguments_before_the_plugin() -> None:
    async with harness([SINGLE]) as h:
        client = h.hub.get(TenantResolverClient)  # type: ignore[type-abstract]
        with pytest.raises(InvalidTenantQuery):
            await client.get_ancestors(CTX, CALLER_TENANT, barrier_mode="sideways")  # type: ignore[arg-type]
        with pytest.raises(InvalidTenantQuery):
            await client.get_descendants(CTX, CALLER_TENANT, max_depth=-1)
        with pytest.raises(InvalidTenantQuery):
            await client.get_tenants(CTX, [CALLER_TENANT], status=("gone",))  # type: ignore[arg-type]


async def test_a_malformed_static_tree_aborts_startup(tmp_path: Path) -> None:
    bad = {"tenants": [{"id": str(ROOT), "name": "r"}, {"id": str(CHILD), "name": "c"}]}
    with pytest.raises(StartupError) as info:
        async with harness([SINGLE, STATIC], {"plugins": {"static-tenants": {"config": bad}}}, home=tmp_path):
            pass
    assert "exactly one root" in str(info.value)
