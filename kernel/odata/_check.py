"""Semantic check of a raw ``$filter`` AST against a ``FieldMap``, yielding the typed AST."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ._ast import ORDERING_OPS, And, Compare, Expr, Func, InList, Not, Or, Value
from ._errors import InvalidFilter
from ._fields import Field, FieldMap
from ._literals import parse_date, parse_datetime, parse_time, parse_uuid
from ._parser import parse_filter


def check_filter(expr: Expr, fields: FieldMap) -> Expr:
    """Return ``expr`` with declared field names and literal values coerced to each field's kind.

    Raises ``InvalidFilter`` (422) for an unknown field, an operator the field does not allow, a literal of
    the wrong type, a string function on a non-string field, ``null`` with an ordering operator or in a list.
    """
    match expr:
        case And(items):
            return And(tuple(check_filter(item, fields) for item in items))
        case Or(items):
            return Or(tuple(check_filter(item, fields) for item in items))
        case Not(inner):
            return Not(check_filter(inner, fields))
        case Compare(name, op, value, pos=pos):
            field = _lookup(fields, name, op, pos)
            if value.kind == "null":
                if op in ORDERING_OPS:
                    raise _error(
                        f"null cannot be used with {op!r} (only eq and ne) on field {field.name!r}", pos
                    )
                return Compare(field.name, op, value, pos=pos)
            return Compare(field.name, op, _coerce(field, value, pos), pos=pos)
        case InList(name, values, pos=pos):
            field = _lookup(fields, name, "in", pos)
            if any(value.kind == "null" for value in values):
                raise _error(
                    f"null is not allowed in an 'in' list (use 'eq null') on field {field.name!r}", pos
                )
            return InList(field.name, tuple(_coerce(field, value, pos) for value in values), pos=pos)
        case Func(func, name, value, pos=pos):
            field = _lookup(fields, name, func, pos)
            return Func(func, field.name, value, pos=pos)
    raise TypeError(f"not a filter node: {expr!r}")


def resolve_filter(text: str, fields: FieldMap) -> Expr:
    """``parse_filter`` then ``check_filter``."""
    return check_filter(parse_filter(text), fields)


def _error(message: str, pos: int) -> InvalidFilter:
    if pos:
        return InvalidFilter(f"{message} at position {pos}", position=pos)
    return InvalidFilter(message)


def _lookup(fields: FieldMap, name: str, op: str, pos: int) -> Field:
    field: Field | None = fields.get(name)
    if field is None:
        raise _error(f"unknown field {name!r}", pos)
    if op in ("contains", "startswith", "endswith") and field.kind != "string":
        raise _error(f"{op!r} needs a string field, but {field.name!r} is {field.kind}", pos)
    if not field.allows(op):
        allowed = ", ".join(sorted(field.ops or ()))
        raise _error(f"operator {op!r} is not allowed on field {field.name!r} (allowed: {allowed})", pos)
    return field


_FROM_STRING = {"uuid": parse_uuid, "datetime": parse_datetime, "date": parse_date, "time": parse_time}


def _coerce(field: Field, literal: Value, pos: int) -> Value:
    kind, source, raw = field.kind, literal.kind, literal.value
    value: Any = None
    if source == kind:
        value = raw
    elif kind == "float" and source in ("int", "decimal"):
        value = float(raw)  # type: ignore[arg-type]
        if not math.isfinite(value):
            raise _error(f"number {raw} is out of range for float field {field.name!r}", pos)
    elif kind == "decimal" and source == "int":
        value = Decimal(raw)  # type: ignore[arg-type]
    elif kind == "decimal" and source == "float":
        value = Decimal(repr(raw))
    elif kind in _FROM_STRING and source == "string":
        value = _FROM_STRING[kind](raw)  # type: ignore[arg-type]
        if value is None:
            raise _error(f"field {field.name!r} has type {kind}; {raw!r} is not a valid {kind}", pos)
    if value is None:
        raise _error(f"field {field.name!r} has type {kind}, but the literal has type {source}", pos)
    return Value(kind, value)
