"""Renders an ``AccessScope`` as a SQL predicate over a table's scope columns (K-13.2).

The result is a Piccolo ``WhereRaw`` with ``{}`` placeholders: values are always bound, never inlined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from piccolo.columns import Column
from piccolo.columns.column_types import UUID as UUIDColumn
from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from fabrikit.kernel.security import (
    OWNER_ID,
    OWNER_TENANT_ID,
    RESOURCE_ID,
    AccessScope,
    Constraint,
    Eq,
    In,
    InGroup,
    InGroupSubtree,
    Predicate,
    ScopeValue,
)

ColumnRef = str | Column

MEMBERSHIP_TABLE = "resource_group_membership"
CLOSURE_TABLE = "resource_group_closure"
_FALSE = "1 = 0"
_TRUE = "1 = 1"


@dataclass(frozen=True, slots=True)
class ScopeColumns:
    """Which columns carry the well-known scope properties of a table.

    Declare it on the table class as ``__scope__ = ScopeColumns(tenant=tenant_id, resource=id, ...)``
    (inside the class body the bare column objects work). ``groups=True`` enables the
    ``InGroup``/``InGroupSubtree`` filters.
    ``ScopeColumns.unrestricted()`` marks global tables that scopes never filter.
    """

    tenant: ColumnRef | None = None
    resource: ColumnRef | None = None
    owner: ColumnRef | None = None
    extra: Mapping[str, ColumnRef] = field(default_factory=dict)
    groups: bool = False
    is_unrestricted: bool = False

    @classmethod
    def unrestricted(cls) -> ScopeColumns:
        return cls(is_unrestricted=True)

    def column_for(self, prop: str) -> ColumnRef | None:
        well_known = {OWNER_TENANT_ID: self.tenant, RESOURCE_ID: self.resource, OWNER_ID: self.owner}
        if prop in well_known and well_known[prop] is not None:
            return well_known[prop]
        return self.extra.get(prop)

    def tenant_column_name(self) -> str | None:
        return None if self.tenant is None else column_name(self.tenant)


def column_name(ref: ColumnRef) -> str:
    return ref if isinstance(ref, str) else ref._meta.db_column_name


def scope_columns_of(table: type[Table]) -> ScopeColumns | None:
    found = getattr(table, "__scope__", None)
    return found if isinstance(found, ScopeColumns) else None


@dataclass(frozen=True, slots=True)
class ScopeSql:
    """A predicate template with ``{}`` placeholders and its bound arguments."""

    sql: str
    args: tuple[Any, ...] = ()

    def where(self) -> WhereRaw:
        return WhereRaw(self.sql, *self.args)


def compile_scope(table: type[Table], columns: ScopeColumns, scope: AccessScope) -> ScopeSql | None:
    """The predicate for ``scope`` on ``table``; ``None`` = no filtering (unconstrained or unrestricted)."""
    if scope.unconstrained or columns.is_unrestricted:
        return None
    parts: list[ScopeSql] = []
    for constraint in scope.constraints:
        compiled = _constraint(table, columns, constraint)
        if compiled is not None:
            parts.append(compiled)
    if not parts:
        return ScopeSql(_FALSE)
    if len(parts) == 1:
        return parts[0]
    return ScopeSql(
        " OR ".join(f"({p.sql})" for p in parts),
        tuple(arg for p in parts for arg in p.args),
    )


def _constraint(table: type[Table], columns: ScopeColumns, constraint: Constraint) -> ScopeSql | None:
    """An AND of predicates; ``None`` when a property cannot be resolved (the whole constraint is dropped)."""
    if not constraint.predicates:
        return ScopeSql(_TRUE)
    parts: list[ScopeSql] = []
    for predicate in constraint.predicates:
        ref = columns.column_for(predicate.prop)
        if ref is None:
            return None
        if isinstance(predicate, (InGroup, InGroupSubtree)) and not columns.groups:
            return None
        parts.append(_predicate(table, ref, predicate))
    return ScopeSql(
        " AND ".join(f"({p.sql})" for p in parts),
        tuple(arg for p in parts for arg in p.args),
    )


def _predicate(table: type[Table], ref: ColumnRef, predicate: Predicate) -> ScopeSql:
    col = qualified(table, ref)
    if isinstance(predicate, Eq):
        values = bind_values(ref, (predicate.value,))
        return ScopeSql(f"{col} = {{}}", values) if values else ScopeSql(_FALSE)
    if isinstance(predicate, In):
        return _in(col, bind_values(ref, predicate.values))
    if isinstance(predicate, InGroup):
        return _in_subselect(
            col, f"SELECT resource_id FROM {MEMBERSHIP_TABLE} WHERE group_id", predicate.group_ids
        )
    return _in_subselect(
        col,
        f"SELECT resource_id FROM {MEMBERSHIP_TABLE} WHERE group_id IN "
        f"(SELECT descendant_id FROM {CLOSURE_TABLE} WHERE ancestor_id",
        predicate.ancestor_ids,
        closing=")",
    )


def _in(col: str, values: Sequence[Any]) -> ScopeSql:
    if not values:
        return ScopeSql(_FALSE)
    return ScopeSql(f"{col} IN ({', '.join('{}' for _ in values)})", tuple(values))


def _in_subselect(col: str, select: str, ids: Sequence[ScopeValue], closing: str = "") -> ScopeSql:
    if not ids:
        return ScopeSql(_FALSE)
    placeholders = ", ".join("{}" for _ in ids)
    return ScopeSql(f"{col} IN ({select} IN ({placeholders}){closing})", tuple(ids))


def qualified(table: type[Table], ref: ColumnRef) -> str:
    return f'{table._meta.get_formatted_tablename()}."{column_name(ref)}"'


def bind_values(ref: ColumnRef, values: Sequence[ScopeValue]) -> tuple[Any, ...]:
    """Adapts scope values to the column type so both engines compare like with like.

    UUID columns get ``UUID`` objects (SQLite stores them as canonical lowercase text via Piccolo's adapter,
    so an upper-case string would never match); a string that is not a UUID cannot match a UUID column and
    is dropped.
    Other columns get UUIDs as canonical strings.
    """
    is_uuid_column = isinstance(ref, UUIDColumn)
    out: list[Any] = []
    for value in values:
        if is_uuid_column and isinstance(value, str):
            try:
                out.append(UUID(value))
            except ValueError:
                continue
        elif is_uuid_column and not isinstance(value, UUID):
            continue
        elif not is_uuid_column and isinstance(value, UUID) and not isinstance(ref, str):
            out.append(str(value))
        else:
            out.append(value)
    return tuple(out)
