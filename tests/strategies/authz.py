"""Hypothesis strategies for PDP responses the PEP must compile (P-3.3.2)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from fabrikit.modules.authz_resolver.sdk import (
    EqPredicate,
    InGroupPredicate,
    InGroupSubtreePredicate,
    InPredicate,
    PdpConstraint,
    PdpPredicate,
)

SUPPORTED = ("owner_tenant_id", "id", "owner_id")
UNSUPPORTED = ("tenant", "owner_tenant", "")

good_values: st.SearchStrategy[Any] = st.one_of(
    st.booleans(), st.integers(), st.text(max_size=8), st.uuids().map(str)
)
bad_values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(), st.integers(), max_size=1),
)


@st.composite
def predicates(draw: st.DrawFn, valid: bool) -> PdpPredicate:
    """A predicate that compiles (``valid``) or one that makes its constraint fail, for one of the listed reasons."""
    flaw = None if valid else draw(st.sampled_from(["property", "empty", "value"]))
    prop = draw(st.sampled_from(UNSUPPORTED if flaw == "property" else SUPPORTED))
    kind = draw(st.sampled_from(["eq", "in", "in_group", "in_group_subtree"]))
    if kind == "eq" and flaw == "empty":
        kind = "in"
    if flaw == "value":
        values = [*draw(st.lists(good_values, max_size=3)), draw(bad_values)]
    elif flaw == "empty":
        values = []
    else:
        values = draw(st.lists(good_values, min_size=1, max_size=3))
    if kind == "eq":
        return EqPredicate(property=prop, value=values[-1] if flaw == "value" else values[0])
    classes: dict[str, type[InPredicate] | type[InGroupPredicate] | type[InGroupSubtreePredicate]] = {
        "in": InPredicate,
        "in_group": InGroupPredicate,
        "in_group_subtree": InGroupSubtreePredicate,
    }
    return classes[kind](prop, tuple(values))


@st.composite
def constraints(draw: st.DrawFn, valid: bool) -> PdpConstraint:
    if valid:
        return PdpConstraint(tuple(draw(st.lists(predicates(True), min_size=1, max_size=3))))
    if draw(st.booleans()):
        return PdpConstraint(())  # zero predicates: a contract violation
    preds = [*draw(st.lists(predicates(True), max_size=2)), draw(predicates(False))]
    return PdpConstraint(tuple(draw(st.permutations(preds))))


@st.composite
def constraint_lists(draw: st.DrawFn) -> tuple[list[PdpConstraint], list[bool]]:
    """A non-empty list of constraints and, for each, whether the PEP must keep it."""
    flags = draw(st.lists(st.booleans(), min_size=1, max_size=5))
    return [draw(constraints(f)) for f in flags], flags
