"""Keyset pagination over SQL (K-12.4): one ``SELECT`` per page, then ``QueryPlan.page``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from piccolo.columns import Column
from piccolo.table import Table

from fabrikit.kernel.odata import Field, FieldMap, KeyOf, Page, QueryPlan
from fabrikit.kernel.security import AccessScope

from ._database import Database
from ._filter_sql import ValueAdapter, column_sql, compile_filter, quote_identifier, result_key
from ._scope_sql import ScopeColumns, ScopeSql, compile_scope, scope_columns_of
from ._secure import ScopeInvalid
from ._settings import Dialect

Source = type[Table] | str


async def paginate(
    db: Database,
    source: Source,
    plan: QueryPlan,
    *,
    scope: AccessScope | None = None,
    scope_columns: ScopeColumns | None = None,
    scope_table: type[Table] | str | None = None,
    extra_where: ScopeSql | None = None,
    select_columns: Sequence[Column | str] | str | None = None,
    key_of: KeyOf | None = None,
    value_adapter: ValueAdapter | None = None,
) -> Page[dict[str, Any]]:
    """One page of ``source`` for ``plan``, as dict rows (K-12.4).

    ``source`` is a Piccolo ``Table`` class or a raw ``FROM`` text (joins and aliases allowed, no
    placeholders). WHERE = ``scope`` AND ``extra_where`` AND ``$filter`` AND the cursor predicate; ORDER BY the
    plan's fetch order; LIMIT ``limit + 1``. Runs in the caller's transaction when there is one.

    ``scope`` needs scope columns: ``scope_columns``, else the ``__scope__`` of ``scope_table`` or of a
    ``Table`` source. Scope columns are qualified by ``scope_table`` (a ``Table`` or the alias used in a raw
    source), else by the ``Table`` source. ``scope=None`` means the caller applies no access scope.
    ``extra_where`` is a caller predicate with ``{}`` placeholders (soft delete, parent id, …).
    ``select_columns`` defaults to ``*``; a string is used as is. ``key_of(row, field_name)`` defaults to
    reading the field's result key and decoding it to the field kind (SQLite returns text for uuid and
    timestamps in raw tables), so cursors hold canonical keys.
    """
    sql, args = page_query(
        db.dialect,
        source,
        plan,
        scope=scope,
        scope_columns=scope_columns,
        scope_table=scope_table,
        extra_where=extra_where,
        select_columns=select_columns,
        value_adapter=value_adapter,
    )
    rows = await db.fetch(sql, *args)
    return plan.page(rows, key_of or typed_key_of(plan.fields))


def page_query(
    dialect: Dialect,
    source: Source,
    plan: QueryPlan,
    *,
    scope: AccessScope | None = None,
    scope_columns: ScopeColumns | None = None,
    scope_table: type[Table] | str | None = None,
    extra_where: ScopeSql | None = None,
    select_columns: Sequence[Column | str] | str | None = None,
    value_adapter: ValueAdapter | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """The ``(sql, args)`` that ``paginate`` runs (``{}`` placeholders)."""
    parts: list[str] = []
    args: list[Any] = []
    if scope is not None:
        scoped = _scope_sql(source, scope, scope_columns, scope_table)
        if scoped is not None:
            parts.append(f"({scoped.sql})")
            args.extend(scoped.args)
    if extra_where is not None:
        parts.append(f"({extra_where.sql})")
        args.extend(extra_where.args)
    where = plan.where()
    if where is not None:
        sql, values = compile_filter(where, plan.fields, dialect, value_adapter=value_adapter)
        parts.append(sql)
        args.extend(values)
    order = ", ".join(
        _order_term(plan.fields[name], dialect) + (" ASC" if direction == "asc" else " DESC")
        for name, direction in plan.fetch_order.fields
    )
    text = f"SELECT {_select_list(select_columns)} FROM {_from(source)}"
    if parts:
        text += " WHERE " + " AND ".join(parts)
    text += f" ORDER BY {order} LIMIT {int(plan.fetch_limit)}"
    return text, tuple(args)


def _order_term(field: Field, dialect: Dialect) -> str:
    column = column_sql(field)
    # Same collation as the cursor predicate's comparisons, so pages neither skip nor repeat rows.
    return f'{column} COLLATE "C"' if field.kind == "string" and dialect == "postgres" else column


def _from(source: Source) -> str:
    if isinstance(source, str):
        if not source.strip():
            raise ValueError("the FROM source is empty")
        return source
    return source._meta.get_formatted_tablename()


def _select_list(columns: Sequence[Column | str] | str | None) -> str:
    if columns is None:
        return "*"
    if isinstance(columns, str):
        return columns
    if not columns:
        raise ValueError("select_columns is empty")
    names: list[str] = []
    for column in columns:
        if isinstance(column, Column):
            names.append(quote_identifier(column._meta.db_column_name))
        else:
            names.append(".".join(quote_identifier(part) for part in column.split(".")))
    return ", ".join(names)


def _scope_sql(
    source: Source,
    scope: AccessScope,
    columns: ScopeColumns | None,
    scope_table: type[Table] | str | None,
) -> ScopeSql | None:
    table = scope_table if scope_table is not None else source
    if columns is None and not isinstance(table, str):
        columns = scope_columns_of(table)
    if columns is None:
        raise ScopeInvalid(
            "paginate with a scope needs scope columns: pass scope_columns or a table declaring __scope__"
        )
    if isinstance(table, str):
        if scope_table is None:
            raise ScopeInvalid(
                "paginate over a raw FROM source with a scope needs scope_table (table or alias)"
            )
        return compile_scope(cast(type[Table], _Alias(table)), columns, scope)
    return compile_scope(table, columns, scope)


class _AliasMeta:
    def __init__(self, alias: str) -> None:
        self._alias = alias

    def get_formatted_tablename(self, include_schema: bool = True, quoted: bool = True) -> str:
        return quote_identifier(self._alias) if quoted else self._alias


class _Alias:
    """Stands in for a ``Table`` in ``compile_scope``, which only asks it for the qualifier of columns."""

    def __init__(self, alias: str) -> None:
        self._meta = _AliasMeta(alias)


def typed_key_of(fields: FieldMap) -> KeyOf:
    """A ``KeyOf`` for dict rows: the value under the field name (else its column's result key), decoded
    to the field kind: text → uuid/datetime/date/time, 0/1 → bool, numbers → Decimal for decimals."""

    def key_of(row: Any, name: str) -> Any:
        field = fields[name]
        value = row[name] if name in row else row[result_key(field)]
        return decode_value(field.kind, value)

    return key_of


def decode_value(kind: str, value: Any) -> Any:
    """A stored value as the Python type of ``kind`` (``None`` stays ``None``); naive datetimes are UTC."""
    if value is None:
        return None
    if kind == "datetime":
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    elif kind == "uuid" and not isinstance(value, UUID):
        return UUID(str(value))
    elif kind == "bool" and not isinstance(value, bool):
        return bool(value)
    elif kind == "decimal" and not isinstance(value, Decimal):
        return Decimal(str(value))
    elif kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    elif kind == "time" and isinstance(value, str):
        return time.fromisoformat(value)
    elif kind == "int" and not isinstance(value, int):
        return int(value)
    elif kind == "float" and not isinstance(value, float):
        return float(value)
    return value
