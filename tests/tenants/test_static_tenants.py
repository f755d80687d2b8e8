"""P-4.2 behaviour of the static tree and P-4.3.2 startup rejections (P-4.4 'Static tree')."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel import ConfigError, convert_config
from fabrikit.kernel.plugins import PluginDef
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.tenant_resolver.sdk import (
    TENANT_PLUGIN_SPEC_ID,
    TenantNotFound,
    TenantResolverPlugin,
)
from fabrikit.plugins.static_tenants import plugin as static_tenants
from fabrikit.plugins.static_tenants.plugin import DEFINITION, StaticTenantsConfig, StaticTenantsPlugin


def u(n: int) -> UUID:
    return UUID(int=n)


ROOT, A, A1, A1X, B, B1, B2, C, C1 = (u(n) for n in (1, 10, 11, 111, 20, 21, 22, 30, 31))
# root ─┬─ A ── A1 ── A1X
#       ├─ B (self-managed) ─┬─ B1
#       │                    └─ B2 (suspended)
#       └─ C (suspended) ── C1
TREE: list[dict[str, Any]] = [
    {"id": str(ROOT), "name": "root", "type": "root"},
    {"id": str(A), "name": "a", "parent_id": str(ROOT)},
    {"id": str(B), "name": "b", "parent_id": str(ROOT), "self_managed": True},
    {"id": str(C), "name": "c", "parent_id": str(ROOT), "status": "suspended"},
    {"id": str(A1), "name": "a1", "parent_id": str(A)},
    {"id": str(B1), "name": "b1", "parent_id": str(B)},
    {"id": str(B2), "name": "b2", "parent_id": str(B), "status": "suspended"},
    {"id": str(C1), "name": "c1", "parent_id": str(C)},
    {"id": str(A1X), "name": "a1x", "parent_id": str(A1)},
]
CTX = SecurityContext.anonymous()  # the static plugin ignores the caller


def config(tenants: list[dict[str, Any]]) -> StaticTenantsConfig:
    return convert_config({"tenants": tenants}, StaticTenantsConfig, "plugins.static-tenants.config")


@pytest.fixture
def plugin() -> StaticTenantsPlugin:
    return StaticTenantsPlugin(config(TREE))


def ids(refs: Any) -> list[UUID]:
    return [r.id for r in refs]


# --- startup rejections ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tenants", "message"),
    [
        ([{"id": str(A), "name": "a", "parent_id": str(ROOT)}, {"id": str(ROOT), "name": "r", "parent_id": str(A)}],
         "found 0"),
        ([{"id": str(ROOT), "name": "r"}, {"id": str(A), "name": "a"}], "found 2"),
        ([{"id": str(ROOT), "name": "r"}, {"id": str(ROOT), "name": "again"}], "duplicate tenant id"),
        ([{"id": str(ROOT), "name": "r"}, {"id": str(A), "name": "a", "parent_id": str(A)}], "its own parent"),
        ([{"id": str(ROOT), "name": "r"}, {"id": str(A), "name": "a", "parent_id": str(B)}], "unknown parent"),
        ([{"id": str(ROOT), "name": "r"}, {"id": str(A), "name": "a", "parent_id": str(B)},
          {"id": str(B), "name": "b", "parent_id": str(A)}], "cycle"),
    ],
    ids=["no-root", "two-roots", "duplicate", "self-parent", "dangling", "cycle"],
)  # fmt: skip
def test_startup_rejects_a_malformed_tree(tenants: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config(tenants)
    text = str(info.value)
    assert message in text
    assert "plugins.static-tenants.config" in text


def test_every_problem_is_reported_at_once() -> None:
    tenants = [{"id": str(ROOT), "name": "r"}, {"id": str(ROOT), "name": "dup"}, {"id": str(A), "name": "a"}]
    with pytest.raises(ConfigError) as info:
        config(tenants)
    assert len(info.value.messages) == 2  # the duplicate and the second root


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ConfigError):
        config([{"id": str(ROOT), "name": "r", "status": "gone"}])


def test_an_empty_list_registers_nothing_and_a_tree_registers_the_plugin() -> None:
    sections: list[dict[str, Any]] = [
        {},
        {"static-tenants": {"config": {}}},
        {"static-tenants": {"config": {"tenants": []}}},
    ]
    for section in sections:
        registered: list[PluginDef] = []
        static_tenants.fabrikit_register_plugins(registered.append, section)
        assert registered == [], section
    registered = []
    static_tenants.fabrikit_register_plugins(
        registered.append, {"static-tenants": {"config": {"tenants": TREE}}}
    )
    assert registered == [DEFINITION]
    registered = []  # a typo must reach validation instead of silently disabling the plugin
    static_tenants.fabrikit_register_plugins(
        registered.append, {"static-tenants": {"config": {"tenant": TREE}}}
    )
    assert registered == [DEFINITION]


def test_definition_matches_the_spec() -> None:
    assert DEFINITION.name == "static-tenants"
    assert DEFINITION.host == "tenant-resolver"
    assert (
        DEFINITION.instance_id == TENANT_PLUGIN_SPEC_ID + "hyperspot.builtin.static_tenant_resolver.plugin.v1"
    )
    assert DEFINITION.priority == 100
    assert DEFINITION.config_type is StaticTenantsConfig
    assert isinstance(StaticTenantsPlugin(config(TREE)), TenantResolverPlugin)


# --- P-4.2.1 get_tenant / get_tenants -------------------------------------------------------------------------
async def test_get_tenant_returns_any_status_and_unknown_is_not_found(plugin: StaticTenantsPlugin) -> None:
    c = await plugin.get_tenant(CTX, C)
    assert (c.name, c.status, c.parent_id) == ("c", "suspended", ROOT)
    with pytest.raises(TenantNotFound):
        await plugin.get_tenant(CTX, u(999))


async def test_root(plugin: StaticTenantsPlugin) -> None:
    root = await plugin.get_root_tenant(CTX)
    assert (root.id, root.type, root.parent_id) == (ROOT, "root", None)


async def test_get_tenants_skips_missing_deduplicates_and_filters_status(plugin: StaticTenantsPlugin) -> None:
    assert ids(await plugin.get_tenants(CTX, [C, u(999), A, C, ROOT])) == [C, A, ROOT]
    assert ids(await plugin.get_tenants(CTX, [C, A, C], status=("active",))) == [A]
    assert ids(await plugin.get_tenants(CTX, [C, A], status=("suspended", "deleted"))) == [C]
    assert await plugin.get_tenants(CTX, []) == []


# --- P-4.2.2 ancestors ----------------------------------------------------------------------------------------
async def test_ancestors_parent_first_root_last(plugin: StaticTenantsPlugin) -> None:
    result = await plugin.get_ancestors(CTX, A1X)
    assert result.tenant.id == A1X
    assert ids(result.ancestors) == [A1, A, ROOT]
    assert (await plugin.get_ancestors(CTX, ROOT)).ancestors == []


async def test_ancestors_respect_barriers(plugin: StaticTenantsPlugin) -> None:
    assert (await plugin.get_ancestors(CTX, B)).ancestors == []  # a self-managed start
    assert ids((await plugin.get_ancestors(CTX, B1)).ancestors) == [
        B
    ]  # the barrier is included and ends the walk
    assert ids((await plugin.get_ancestors(CTX, B, barrier_mode="ignore")).ancestors) == [ROOT]
    assert ids((await plugin.get_ancestors(CTX, B1, barrier_mode="ignore")).ancestors) == [B, ROOT]


async def test_ancestors_of_unknown_is_not_found(plugin: StaticTenantsPlugin) -> None:
    with pytest.raises(TenantNotFound):
        await plugin.get_ancestors(CTX, u(999))


# --- P-4.2.3 descendants --------------------------------------------------------------------------------------
async def test_descendants_pre_order_skipping_barriers(plugin: StaticTenantsPlugin) -> None:
    result = await plugin.get_descendants(CTX, ROOT)
    assert result.tenant.id == ROOT
    assert ids(result.descendants) == [A, A1, A1X, C, C1]


async def test_descendants_ignoring_barriers(plugin: StaticTenantsPlugin) -> None:
    result = await plugin.get_descendants(CTX, ROOT, barrier_mode="ignore")
    assert ids(result.descendants) == [A, A1, A1X, B, B1, B2, C, C1]


async def test_status_filter_prunes_whole_subtrees(plugin: StaticTenantsPlugin) -> None:
    active = await plugin.get_descendants(CTX, ROOT, status=("active",), barrier_mode="ignore")
    assert ids(active.descendants) == [A, A1, A1X, B, B1]  # C1 is active but hangs under suspended C


async def test_the_start_tenant_is_always_returned(plugin: StaticTenantsPlugin) -> None:
    result = await plugin.get_descendants(CTX, C, status=("active",))
    assert result.tenant.id == C
    assert result.tenant.status == "suspended"
    assert ids(result.descendants) == [C1]
    barrier = await plugin.get_descendants(CTX, B)  # a self-managed start sees its own subtree
    assert barrier.tenant.id == B
    assert ids(barrier.descendants) == [B1, B2]


@pytest.mark.parametrize(
    ("max_depth", "expected"),
    [(0, []), (1, [A, C]), (2, [A, A1, C, C1]), (3, [A, A1, A1X, C, C1]), (None, [A, A1, A1X, C, C1])],
)
async def test_max_depth(plugin: StaticTenantsPlugin, max_depth: int | None, expected: list[UUID]) -> None:
    assert ids((await plugin.get_descendants(CTX, ROOT, max_depth=max_depth)).descendants) == expected


async def test_descendants_of_unknown_is_not_found(plugin: StaticTenantsPlugin) -> None:
    with pytest.raises(TenantNotFound):
        await plugin.get_descendants(CTX, u(999))


# --- P-4.2.4 is_ancestor --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ancestor", "descendant", "respect", "ignore"),
    [
        (ROOT, ROOT, False, False),  # never its own ancestor
        (ROOT, A1X, True, True),
        (A1X, ROOT, False, False),
        (ROOT, B, False, True),  # the descendant is self-managed
        (ROOT, B1, False, True),  # a self-managed node lies between
        (B, B1, True, True),  # the barrier itself is the ancestor
        (A, C1, False, False),  # another branch
    ],
)
async def test_is_ancestor(
    plugin: StaticTenantsPlugin, ancestor: UUID, descendant: UUID, respect: bool, ignore: bool
) -> None:
    assert await plugin.is_ancestor(CTX, ancestor, descendant) is respect
    assert await plugin.is_ancestor(CTX, ancestor, descendant, barrier_mode="ignore") is ignore


async def test_is_ancestor_with_unknown_ids_is_not_found(plugin: StaticTenantsPlugin) -> None:
    with pytest.raises(TenantNotFound):
        await plugin.is_ancestor(CTX, u(999), A)
    with pytest.raises(TenantNotFound):
        await plugin.is_ancestor(CTX, A, u(999))


def test_plugin_repr_counts_tenants(plugin: StaticTenantsPlugin) -> None:
    assert repr(plugin) == "StaticTenantsPlugin(tenants=9)"
