"""Hypothesis strategies for single-root tenant trees (P-4.2)."""

from __future__ import annotations

from uuid import UUID

from hypothesis import strategies as st

from fabrikit.modules.tenant_resolver.sdk import TenantInfo

STATUSES = ("active", "suspended", "deleted")


@st.composite
def tenant_trees(draw: st.DrawFn, max_size: int = 12) -> list[TenantInfo]:
    """A valid tree in a random configuration order: node 0 is the root, every other node's parent is earlier."""
    size = draw(st.integers(min_value=1, max_value=max_size))
    nodes = []
    for i in range(size):
        parent = None if i == 0 else UUID(int=draw(st.integers(min_value=0, max_value=i - 1)) + 1)
        nodes.append(
            TenantInfo(
                id=UUID(int=i + 1),
                name=f"t{i}",
                status=draw(st.sampled_from(STATUSES)),
                parent_id=parent,
                self_managed=i > 0 and draw(st.booleans()),
            )
        )
    return list(draw(st.permutations(nodes)))
