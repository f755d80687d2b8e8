"""Hypothesis strategies for scoped SQL: small universes so random scopes and rows actually overlap."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from fabrikit.kernel.security import AccessScope, Constraint, Eq, In, InGroup, Predicate

TENANTS = tuple(uuid.UUID(int=i) for i in range(1, 4))
OWNERS = tuple(uuid.UUID(int=100 + i) for i in range(3))
IDS = tuple(uuid.UUID(int=1000 + i) for i in range(6))
KINDS = ("a", "b", "c")

_PROPS: dict[str, tuple[Any, ...]] = {
    "owner_tenant_id": TENANTS,
    "owner_id": OWNERS,
    "id": IDS,
    "kind": KINDS,
    "unknown_prop": KINDS,
}


@st.composite
def predicates(draw: st.DrawFn) -> Predicate:
    # Unresolvable properties and group predicates drop their constraint: keep them rare so most scopes filter.
    prop = draw(
        st.sampled_from(["owner_tenant_id", "owner_tenant_id", "owner_id", "id", "kind", "unknown_prop"])
    )
    universe = _PROPS[prop]
    shape = draw(
        st.sampled_from(["eq", "in", "in", "group"]) if prop == "id" else st.sampled_from(["eq", "in"])
    )
    if shape == "eq":
        value = draw(st.sampled_from(universe))
        # Scope values may arrive as strings (e.g. from a policy engine); UUID columns must still match.
        if isinstance(value, uuid.UUID) and draw(st.booleans()):
            return Eq(prop, str(value).upper() if draw(st.booleans()) else str(value))
        return Eq(prop, value)
    if shape == "in":
        return In(prop, draw(st.lists(st.sampled_from(universe), max_size=len(universe) - 1, unique=True)))
    return InGroup(prop, draw(st.lists(st.sampled_from(IDS), max_size=2)))


def constraints() -> st.SearchStrategy[Constraint]:
    return st.lists(predicates(), max_size=2).map(Constraint)


def access_scopes() -> st.SearchStrategy[AccessScope]:
    return st.one_of(
        st.just(AccessScope.allow_all()),
        st.just(AccessScope()),
        st.lists(constraints(), min_size=1, max_size=3).map(lambda cs: AccessScope.any_of(*cs)),
        st.lists(constraints(), min_size=1, max_size=3).map(lambda cs: AccessScope.any_of(*cs)),
        st.lists(constraints(), min_size=2, max_size=3).map(lambda cs: AccessScope.any_of(*cs)),
    )


@st.composite
def scoped_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    ids = draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=len(IDS), unique=True))
    return [
        {
            "id": rid,
            "tenant_id": draw(st.sampled_from(TENANTS)),
            "owner_id": draw(st.sampled_from(OWNERS)),
            "kind": draw(st.sampled_from(KINDS)),
        }
        for rid in ids
    ]
