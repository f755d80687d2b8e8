"""AccessScope: what rows a caller may touch, as an OR of AND-ed predicates (K-13.1, P-3.5).

Pure data; the SQL rendering lives in ``fabrikit.kernel.db``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

ScopeValue = UUID | str | int | bool

OWNER_TENANT_ID = "owner_tenant_id"
RESOURCE_ID = "id"
OWNER_ID = "owner_id"


@dataclass(frozen=True, slots=True)
class Eq:
    prop: str
    value: ScopeValue


@dataclass(frozen=True, slots=True)
class In:
    prop: str
    values: tuple[ScopeValue, ...]

    def __init__(self, prop: str, values: Iterable[ScopeValue]) -> None:
        object.__setattr__(self, "prop", prop)
        object.__setattr__(self, "values", tuple(values))


@dataclass(frozen=True, slots=True)
class InGroup:
    prop: str
    group_ids: tuple[ScopeValue, ...]

    def __init__(self, prop: str, group_ids: Iterable[ScopeValue]) -> None:
        object.__setattr__(self, "prop", prop)
        object.__setattr__(self, "group_ids", tuple(group_ids))


@dataclass(frozen=True, slots=True)
class InGroupSubtree:
    prop: str
    ancestor_ids: tuple[ScopeValue, ...]

    def __init__(self, prop: str, ancestor_ids: Iterable[ScopeValue]) -> None:
        object.__setattr__(self, "prop", prop)
        object.__setattr__(self, "ancestor_ids", tuple(ancestor_ids))


Predicate = Eq | In | InGroup | InGroupSubtree


@dataclass(frozen=True, slots=True)
class Constraint:
    """An AND of predicates. An empty constraint is satisfied by every row."""

    predicates: tuple[Predicate, ...] = ()

    def __init__(self, predicates: Iterable[Predicate] = ()) -> None:
        object.__setattr__(self, "predicates", tuple(predicates))


@dataclass(frozen=True, slots=True)
class AccessScope:
    """An OR of constraints. ``AccessScope()`` denies everything; ``allow_all()`` is unconstrained."""

    constraints: tuple[Constraint, ...] = ()
    unconstrained: bool = False

    @classmethod
    def allow_all(cls) -> AccessScope:
        return cls(unconstrained=True)

    @classmethod
    def deny_all(cls) -> AccessScope:
        return cls()

    @classmethod
    def for_tenant(cls, *tenant_ids: UUID) -> AccessScope:
        return cls(constraints=(Constraint([In(OWNER_TENANT_ID, tenant_ids)]),))

    @classmethod
    def for_resource(cls, *resource_ids: UUID) -> AccessScope:
        return cls(constraints=(Constraint([In(RESOURCE_ID, resource_ids)]),))

    @classmethod
    def any_of(cls, *constraints: Constraint) -> AccessScope:
        return cls(constraints=tuple(constraints))

    @property
    def is_deny_all(self) -> bool:
        return not self.unconstrained and not self.constraints

    def matches(self, row: dict[str, ScopeValue]) -> bool:
        """Evaluates the scope on a property map (used by in-memory stores and tests).

        Group predicates cannot be decided without group data, so they never match here.
        """
        if self.unconstrained:
            return True
        return any(_constraint_matches(c, row) for c in self.constraints)


def _constraint_matches(constraint: Constraint, row: dict[str, ScopeValue]) -> bool:
    for pred in constraint.predicates:
        if pred.prop not in row:
            return False
        value = row[pred.prop]
        if isinstance(pred, Eq):
            if value != pred.value:
                return False
        elif isinstance(pred, In):
            if value not in pred.values:
                return False
        else:
            return False
    return True
