"""Properties of the tenant tree walks on random trees (P-4.2): the three queries agree with each other."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.tenant_resolver.sdk import TenantInfo
from fabrikit.plugins.static_tenants._tree import TenantTree, tree_problems
from tests.strategies.tenants import STATUSES, tenant_trees


def _path_to_root(by_id: dict[UUID, TenantInfo], tenant_id: UUID) -> list[UUID]:
    out, node = [], by_id[tenant_id]
    while node.parent_id is not None:
        out.append(node.parent_id)
        node = by_id[node.parent_id]
    return out


@given(tenant_trees())
def test_generated_trees_are_valid(tenants: list[TenantInfo]) -> None:
    assert tree_problems(tenants) == []


@given(tenant_trees())
def test_ignoring_barriers_ancestors_are_the_path_to_the_root(tenants: list[TenantInfo]) -> None:
    tree, by_id = TenantTree(tenants), {t.id: t for t in tenants}
    for t in tenants:
        assert [r.id for r in tree.ancestors(t.id, respect=False)] == _path_to_root(by_id, t.id)


@given(tenant_trees(), st.booleans())
def test_is_ancestor_agrees_with_ancestors_and_descendants(tenants: list[TenantInfo], respect: bool) -> None:
    tree = TenantTree(tenants)
    for x in tenants:
        below = {r.id for r in tree.descendants(x.id, statuses=(), respect=respect, max_depth=None)}
        for d in tenants:
            above_d = {r.id for r in tree.ancestors(d.id, respect=respect)}
            expected = tree.is_ancestor(x.id, d.id, respect=respect)
            assert (x.id in above_d) is expected
            assert (d.id in below) is expected


@given(tenant_trees())
def test_descendants_of_the_root_ignoring_barriers_cover_the_tree_in_pre_order(
    tenants: list[TenantInfo],
) -> None:
    tree = TenantTree(tenants)
    order = [r.id for r in tree.descendants(tree.root.id, statuses=(), respect=False, max_depth=None)]
    assert sorted(order) == sorted(t.id for t in tenants if t.id != tree.root.id)
    position = {tenant_id: i for i, tenant_id in enumerate(order)}
    by_id = {t.id: t for t in tenants}
    for tenant_id in order:
        parent = by_id[tenant_id].parent_id
        if parent != tree.root.id:
            assert position[parent] < position[tenant_id]  # type: ignore[index]


@given(tenant_trees(), st.integers(min_value=0, max_value=4), st.booleans())
def test_max_depth_keeps_the_nodes_at_most_that_deep(
    tenants: list[TenantInfo], depth: int, respect: bool
) -> None:
    tree, by_id = TenantTree(tenants), {t.id: t for t in tenants}
    root = tree.root.id
    full = [r.id for r in tree.descendants(root, statuses=(), respect=respect, max_depth=None)]
    cut = [r.id for r in tree.descendants(root, statuses=(), respect=respect, max_depth=depth)]
    assert cut == [i for i in full if len(_path_to_root(by_id, i)) <= depth]


@given(tenant_trees(), st.sets(st.sampled_from(STATUSES), min_size=1))
def test_status_filter_keeps_nodes_whose_whole_path_passes(
    tenants: list[TenantInfo], statuses: set[str]
) -> None:
    tree, by_id = TenantTree(tenants), {t.id: t for t in tenants}
    root = tree.root.id
    kept = [r.id for r in tree.descendants(root, statuses=statuses, respect=False, max_depth=None)]
    expected = [
        r.id
        for r in tree.descendants(root, statuses=(), respect=False, max_depth=None)
        if all(by_id[p].status in statuses for p in [r.id, *_path_to_root(by_id, r.id)] if p != root)
    ]
    assert kept == expected
