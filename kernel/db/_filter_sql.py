"""Typed ``$filter`` AST → SQL predicate with ``{}`` placeholders and bound values, per dialect (K-12.2).

The result must select exactly the rows ``fabrikit.kernel.odata.evaluate`` accepts, so:

* values are always bound, never inlined;
* ``eq null`` / ``ne null`` → ``IS NULL`` / ``IS NOT NULL``; ``in ()`` → false (even on a NULL column);
* string functions are case-sensitive: PostgreSQL ``LIKE … ESCAPE '\\'`` with ``% _ \\`` escaped, SQLite ``GLOB``
  with ``* ? [`` escaped as ``[*] [?] [[]``;
* string ordering is by code point: PostgreSQL ordering comparisons use ``COLLATE "C"`` (SQLite's default
  ``BINARY`` collation already is);
* each literal is converted to what the engine stores (``sql_value``).

Stored forms assumed by ``sql_value`` (override per column with ``SqlColumn(adapt=...)`` or per call with
``value_adapter``):

================  =======================================  ===================================================
kind              PostgreSQL                               SQLite
================  =======================================  ===================================================
uuid              ``UUID`` (text for non-UUID Piccolo      lowercase ``TEXT``
                  columns)
datetime          aware UTC (naive UTC for Piccolo         Piccolo ``Timestamptz``/``Timestamp``: Piccolo's
                  ``Timestamp``)                           text; any other column: fixed-width
                                                           ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (``utc_text``)
date / time       ``date`` / ``time``                      ISO text (``time`` as ``time.isoformat()``)
decimal           ``NUMERIC``                              ``REAL`` (Piccolo stores decimals as floats)
bool              ``BOOLEAN``                              ``INTEGER`` 0/1
int / float       ``BIGINT`` / ``DOUBLE PRECISION`` casts  as is
================  =======================================  ===================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns import Column
from piccolo.columns.column_types import UUID as UUIDColumn
from piccolo.columns.column_types import Timestamp, Timestamptz

from fabrikit.kernel.odata import (
    And,
    Compare,
    Expr,
    Field,
    FieldMap,
    Func,
    InList,
    InvalidFilter,
    Not,
    Or,
    Value,
)

from ._settings import Dialect

ValueAdapter = Callable[[Field, Any, Dialect], Any]
"""``(field, typed literal value, dialect) -> bound value``; replaces ``sql_value`` for every literal."""

_FALSE = "1 = 0"
_TRUE = "1 = 1"
_SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
# PostgreSQL infers a parameter's type from the column; casting keeps int64 literals valid against INTEGER
# columns and float8 literals exact against REAL ones.
_PG_CASTS = {"int": "BIGINT", "float": "DOUBLE PRECISION", "decimal": "NUMERIC"}


@dataclass(frozen=True, slots=True)
class SqlColumn:
    """A column of a raw ``FROM`` source, for ``Field(SqlColumn("m.created_at"), "datetime")``.

    ``name`` is a column name or ``alias.column``; each dot-separated part is quoted. ``adapt(value, dialect)``
    converts a typed literal (``UUID``, aware UTC ``datetime``, …) into the value bound for this column,
    replacing ``sql_value`` — for columns stored in a form the defaults do not assume. A plain string
    ``Field.column`` is the same as ``SqlColumn(name)``.
    """

    name: str
    adapt: Callable[[Any, Dialect], Any] | None = None


def quote_identifier(name: str) -> str:
    """``"name"`` with quotes doubled; braces doubled too, since the SQL is a ``{}`` template."""
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted.replace("{", "{{").replace("}", "}}")


def column_sql(field: Field) -> str:
    """The SQL expression of a field's column: a Piccolo ``Column`` (its ``db_column_name``), a
    ``SqlColumn`` or a plain name, ``alias.column`` allowed."""
    column = field.column
    if isinstance(column, Column):
        return quote_identifier(column._meta.db_column_name)
    if isinstance(column, SqlColumn):
        column = column.name
    if not isinstance(column, str) or not column:
        raise TypeError(f"field {field.name!r}: column must be a Piccolo Column, SqlColumn or name")
    return ".".join(quote_identifier(part) for part in column.split("."))


def result_key(field: Field) -> str:
    """The key a plain ``SELECT`` of the field's column has in a result row (the unqualified name)."""
    column = field.column
    if isinstance(column, Column):
        return column._meta.db_column_name
    if isinstance(column, SqlColumn):
        column = column.name
    return str(column).rsplit(".", 1)[-1]


def utc_text(value: datetime) -> str:
    """Fixed-width UTC text ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (naive = UTC): sorts like the instants."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def sql_value(field: Field, value: Any, dialect: Dialect) -> Any:
    """The default bound form of a typed literal for ``field`` (see the module table)."""
    column = field.column
    if isinstance(column, SqlColumn) and column.adapt is not None:
        return column.adapt(value, dialect)
    kind = field.kind
    if kind == "uuid" and isinstance(value, UUID):
        native = dialect == "postgres" and (not isinstance(column, Column) or isinstance(column, UUIDColumn))
        return value if native else str(value)
    if kind == "datetime" and isinstance(value, datetime):
        return _datetime_value(column, value, dialect)
    if dialect == "postgres":
        return value
    if kind == "bool":
        return int(bool(value))
    if kind == "decimal" and isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _datetime_value(column: Any, value: datetime, dialect: Dialect) -> Any:
    aware = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(column, Timestamp):
        naive = aware.replace(tzinfo=None)
        return naive if dialect == "postgres" else str(naive)
    if dialect == "postgres":
        return aware
    if isinstance(column, Timestamptz):
        return str(aware)  # what Piccolo's SQLite adapter stores
    return utc_text(aware)


def compile_filter(
    expr: Expr, fields: FieldMap, dialect: Dialect, *, value_adapter: ValueAdapter | None = None
) -> tuple[str, tuple[Any, ...]]:
    """``(sql, args)`` for a typed filter (``check_filter`` output or ``QueryPlan.where()``).

    ``sql`` uses ``{}`` placeholders (``Database.fetch``/``WhereRaw``); ``args`` are the bound values in order.
    PostgreSQL cannot store NUL characters, so a string literal holding one is ``InvalidFilter`` there.
    """
    compiler = _Compiler(fields, dialect, value_adapter)
    sql = compiler.visit(expr)
    return sql, tuple(compiler.args)


class _Compiler:
    def __init__(self, fields: FieldMap, dialect: Dialect, value_adapter: ValueAdapter | None) -> None:
        self.fields = fields
        self.dialect = dialect
        self.value_adapter = value_adapter
        self.args: list[Any] = []

    def visit(self, expr: Expr) -> str:
        match expr:
            case And(items):
                return "(" + " AND ".join(self.visit(item) for item in items) + ")" if items else _TRUE
            case Or(items):
                return "(" + " OR ".join(self.visit(item) for item in items) + ")" if items else _FALSE
            case Not(inner):
                return f"(NOT {self.visit(inner)})"
            case Compare(name, op, literal):
                return self._compare(self.fields[name], op, literal)
            case InList(name, values):
                if not values:
                    return _FALSE
                field = self.fields[name]
                placeholders = ", ".join(self._bind(field, literal) for literal in values)
                return f"({column_sql(field)} IN ({placeholders}))"
            case Func(func, name, literal):
                return self._function(self.fields[name], func, literal)
        raise TypeError(f"not a filter node: {expr!r}")

    def _compare(self, field: Field, op: str, literal: Value) -> str:
        column = column_sql(field)
        if literal.kind == "null":
            if op not in ("eq", "ne"):
                raise InvalidFilter(
                    f"null cannot be used with {op!r} (only eq and ne) on field {field.name!r}"
                )
            return f"({column} IS {'' if op == 'eq' else 'NOT '}NULL)"
        if field.kind == "string" and self.dialect == "postgres" and op not in ("eq", "ne"):
            column += ' COLLATE "C"'
        return f"({column} {_SQL_OPS[op]} {self._bind(field, literal)})"

    def _function(self, field: Field, func: str, literal: Value) -> str:
        needle = str(literal.value)
        self._check_text(field, needle)
        if self.dialect == "postgres":
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = _wrap(func, escaped, "%")
            self.args.append(pattern)
            return f"({column_sql(field)} LIKE {{}} ESCAPE '\\')"
        escaped = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in needle)
        self.args.append(_wrap(func, escaped, "*"))
        return f"({column_sql(field)} GLOB {{}})"

    def _bind(self, field: Field, literal: Value) -> str:
        value = literal.value
        if isinstance(value, str):
            self._check_text(field, value)
        if self.value_adapter is not None:
            self.args.append(self.value_adapter(field, value, self.dialect))
        else:
            self.args.append(sql_value(field, value, self.dialect))
        cast = _PG_CASTS.get(field.kind) if self.dialect == "postgres" else None
        return f"CAST({{}} AS {cast})" if cast else "{}"

    def _check_text(self, field: Field, text: str) -> None:
        if self.dialect == "postgres" and "\x00" in text:
            raise InvalidFilter(f"the value for field {field.name!r} contains a NUL character")


def _wrap(func: str, escaped: str, wildcard: str) -> str:
    if func == "contains":
        return f"{wildcard}{escaped}{wildcard}"
    if func == "startswith":
        return f"{escaped}{wildcard}"
    return f"{wildcard}{escaped}"
