"""Scoped queries: reads, updates and deletes of scoped tables carry the caller's scope (K-13.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from piccolo.columns import Column
from piccolo.query.methods.delete import Delete
from piccolo.query.methods.select import Select
from piccolo.query.methods.update import Update
from piccolo.table import Table

from fabrikit.kernel.errors import Internal, NotFound, PermissionDenied
from fabrikit.kernel.security import OWNER_TENANT_ID, AccessScope, Constraint, Eq, In, ScopeValue

from ._scope_sql import ScopeColumns, column_name, compile_scope, scope_columns_of

# Mapping is invariant in its key, so a plain ``dict[str, Any]`` row is not a ``Mapping[Column | str, Any]``.
ColumnValues = Mapping[Column | str, Any] | Mapping[Column, Any] | Mapping[str, Any]


class ScopeError(Exception):
    """Base of the scope failures; ``kind`` is ``denied``, ``tenant_not_in_scope``, ``invalid`` or ``db``."""

    kind: ClassVar[str] = ""


class ScopeDenied(ScopeError, PermissionDenied):
    kind = "denied"


class TenantNotInScope(ScopeError, PermissionDenied):
    kind = "tenant_not_in_scope"


class ScopeInvalid(ScopeError, Internal):
    """A programming error (no scope columns, tenant column updated, …); the detail is logged only."""

    kind = "invalid"


class ScopeDbError(ScopeError, Internal):
    kind = "db"


class ScopedNotFound(NotFound):
    """A point read found no row the caller may see (invisible rows look exactly like missing ones)."""


def scoped_select(table: type[Table], scope: AccessScope, cols: Sequence[Column | str] = ()) -> Select:
    """``SELECT cols FROM table WHERE <scope>``; chain ``where``/``order_by``/``limit`` and await it."""
    query = table.select(*cols)
    where = compile_scope(table, _columns(table), scope)
    return query if where is None else query.where(where.where())


async def scoped_get(
    table: type[Table], scope: AccessScope, resource_id: Any, cols: Sequence[Column | str] = ()
) -> dict[str, Any]:
    """One row by primary key among the visible ones; ``ScopedNotFound`` (404) otherwise."""
    pk = table._meta.primary_key
    row = await scoped_select(table, scope, cols).where(pk == resource_id).first()
    if row is None:
        raise ScopedNotFound(f"{table._meta.tablename} {resource_id} not found")
    return dict(row)


def scoped_update(table: type[Table], scope: AccessScope, values: ColumnValues) -> Update:
    """``UPDATE table SET values WHERE <scope>``; refuses to change the tenant column."""
    columns = _columns(table)
    tenant = columns.tenant_column_name()
    if tenant is not None and any(column_name(key) == tenant for key in values):
        raise ScopeInvalid(f"{table._meta.tablename}: updates never change the tenant column {tenant!r}")
    if not values:
        raise ScopeInvalid(f"{table._meta.tablename}: an update needs at least one value")
    update_values: dict[Column | str, Any] = {key: value for key, value in values.items()}
    query = table.update(update_values, force=True)
    where = compile_scope(table, columns, scope)
    return query if where is None else query.where(where.where())


def scoped_delete(table: type[Table], scope: AccessScope) -> Delete:
    """``DELETE FROM table WHERE <scope>``; chain further ``where`` clauses to narrow it."""
    query = table.delete(force=True)
    where = compile_scope(table, _columns(table), scope)
    return query if where is None else query.where(where.where())


async def secure_insert(table: type[Table], scope: AccessScope, row: ColumnValues) -> dict[str, Any]:
    """Inserts ``row`` if the scope allows it and returns the stored row.

    The row must carry the tenant column; some constraint of the scope must accept it, where predicates on
    properties the table lacks (or the row leaves unset) and group predicates are skipped.
    """
    columns = _columns(table)
    values = {column_name(key): value for key, value in row.items()}
    if not columns.is_unrestricted:
        check_insert(table, columns, scope, values)
    try:
        instance = table(**values)
    except ValueError as exc:
        raise ScopeInvalid(f"{table._meta.tablename}: {exc}") from exc
    inserted = await table.insert(instance).returning(*table._meta.columns)
    return dict(inserted[0])


def check_insert(
    table: type[Table], columns: ScopeColumns, scope: AccessScope, values: Mapping[str, Any]
) -> None:
    tenant = columns.tenant_column_name()
    if tenant is None:
        raise ScopeInvalid(
            f"{table._meta.tablename} declares no tenant column, so rows cannot be inserted securely"
        )
    if values.get(tenant) is None:
        raise ScopeInvalid(f"{table._meta.tablename}: the row has no {tenant!r} value")
    if scope.unconstrained:
        return
    if scope.is_deny_all:
        raise ScopeDenied("the access scope allows no rows")
    tenant_ok = False
    for constraint in scope.constraints:
        if _accepts(columns, constraint, values, only_prop=OWNER_TENANT_ID):
            tenant_ok = True
            if _accepts(columns, constraint, values):
                return
    if tenant_ok:
        raise ScopeDenied("the access scope does not allow this row")
    raise TenantNotInScope("the row's tenant is not in the access scope")


def _accepts(
    columns: ScopeColumns, constraint: Constraint, values: Mapping[str, Any], only_prop: str | None = None
) -> bool:
    for predicate in constraint.predicates:
        if only_prop is not None and predicate.prop != only_prop:
            continue
        if not isinstance(predicate, (Eq, In)):
            continue
        ref = columns.column_for(predicate.prop)
        if ref is None or values.get(column_name(ref)) is None:
            continue
        wanted = (predicate.value,) if isinstance(predicate, Eq) else predicate.values
        actual = _canonical(values[column_name(ref)])
        if actual not in {_canonical(v) for v in wanted}:
            return False
    return True


def _canonical(value: ScopeValue | Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(UUID(value))
        except ValueError:
            return value
    return value


def _columns(table: type[Table]) -> ScopeColumns:
    columns = scope_columns_of(table)
    if columns is None:
        raise ScopeInvalid(
            f"table {table._meta.tablename} declares no scope columns: set "
            "__scope__ = ScopeColumns(tenant=..., resource=...) or ScopeColumns.unrestricted()"
        )
    return columns
