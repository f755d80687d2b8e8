"""A validated, immutable single-root tenant tree and its barrier-aware walks (P-4.2)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from uuid import UUID

from fabrikit.modules.tenant_resolver.sdk import TenantInfo, TenantNotFound, TenantRef


def tree_problems(tenants: Sequence[TenantInfo]) -> list[str]:
    """Why ``tenants`` is not a single-root tree (empty when it is): roots, duplicates, parents, cycles."""
    problems: list[str] = []
    seen: set[UUID] = set()
    for t in tenants:
        if t.id in seen:
            problems.append(f"duplicate tenant id {t.id}")
        seen.add(t.id)
    for t in tenants:
        if t.parent_id == t.id:
            problems.append(f"tenant {t.id} is its own parent")
        elif t.parent_id is not None and t.parent_id not in seen:
            problems.append(f"tenant {t.id} has unknown parent {t.parent_id}")
    roots = [t.id for t in tenants if t.parent_id is None]
    if len(roots) != 1:
        problems.append(f"expected exactly one root tenant (no parent_id), found {len(roots)}")
    if problems:
        return problems
    unreachable = seen - _reachable(roots[0], tenants)
    if unreachable:
        problems.append(f"parent cycle among tenants {', '.join(sorted(str(u) for u in unreachable))}")
    return problems


def _reachable(root: UUID, tenants: Iterable[TenantInfo]) -> set[UUID]:
    children: dict[UUID, list[UUID]] = {}
    for t in tenants:
        if t.parent_id is not None:
            children.setdefault(t.parent_id, []).append(t.id)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


class TenantTree:
    """Built from tenants that passed ``tree_problems``; children keep configuration order."""

    def __init__(self, tenants: Sequence[TenantInfo]) -> None:
        problems = tree_problems(tenants)
        if problems:
            raise ValueError("; ".join(problems))
        self._by_id = {t.id: t for t in tenants}
        self._children: dict[UUID, list[TenantInfo]] = {t.id: [] for t in tenants}
        for t in tenants:
            if t.parent_id is not None:
                self._children[t.parent_id].append(t)
        self.root = next(t for t in tenants if t.parent_id is None)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, tenant_id: UUID) -> TenantInfo:
        tenant = self._by_id.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(f"tenant {tenant_id} not found")
        return tenant

    def many(self, ids: Iterable[UUID], statuses: Collection[str]) -> list[TenantInfo]:
        """Known ids in request order, de-duplicated, filtered by status (empty = any)."""
        out: list[TenantInfo] = []
        seen: set[UUID] = set()
        for tenant_id in ids:
            tenant = self._by_id.get(tenant_id)
            if tenant is None or tenant_id in seen:
                continue
            seen.add(tenant_id)
            if not statuses or tenant.status in statuses:
                out.append(tenant)
        return out

    def ancestors(self, tenant_id: UUID, *, respect: bool) -> list[TenantRef]:
        """Parent first, root last. Respecting barriers, a self-managed start has none and a self-managed
        ancestor is the last one returned."""
        start = self.get(tenant_id)
        if respect and start.self_managed:
            return []
        out: list[TenantRef] = []
        node = start
        while node.parent_id is not None:
            node = self._by_id[node.parent_id]
            out.append(TenantRef.of(node))
            if respect and node.self_managed:
                break
        return out

    def descendants(
        self, tenant_id: UUID, *, statuses: Collection[str], respect: bool, max_depth: int | None
    ) -> list[TenantRef]:
        """Pre-order; a child that is a barrier (when respected) or fails the status filter is pruned with
        its subtree. ``max_depth=1`` means children only."""
        self.get(tenant_id)
        out: list[TenantRef] = []
        stack: list[tuple[TenantInfo, int]] = [
            (c, 1) for c in reversed(self._children[tenant_id])
        ]  # iterative: deep trees must not hit the recursion limit
        while stack:
            node, depth = stack.pop()
            if max_depth is not None and depth > max_depth:
                continue
            if respect and node.self_managed:
                continue
            if statuses and node.status not in statuses:
                continue
            out.append(TenantRef.of(node))
            stack.extend((c, depth + 1) for c in reversed(self._children[node.id]))
        return out

    def is_ancestor(self, ancestor_id: UUID, descendant_id: UUID, *, respect: bool) -> bool:
        self.get(ancestor_id)
        node = self.get(descendant_id)
        if ancestor_id == descendant_id or (respect and node.self_managed):
            return False
        while node.parent_id is not None:
            node = self._by_id[node.parent_id]
            if node.id == ancestor_id:
                return True
            if respect and node.self_managed:
                return False
        return False
