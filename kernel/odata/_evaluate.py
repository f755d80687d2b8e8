"""In-memory evaluation of a typed filter with SQL semantics: the reference for the db compiler."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._ast import And, Compare, Expr, Func, InList, Not, Or
from ._literals import as_utc


def evaluate(expr: Expr, row: Mapping[str, Any]) -> bool:
    """Whether ``row`` (values keyed by FieldMap name) matches the typed filter ``expr``.

    Three-valued like SQL ``WHERE``: a comparison, ``in`` or function on a NULL column is *unknown*; ``not``
    keeps unknown; ``and``/``or`` follow Kleene logic; an unknown result does not match.
    ``eq null``/``ne null`` are ``IS [NOT] NULL``; ``in ()`` is false; string functions are case-sensitive.
    Naive datetimes are UTC.
    """
    return _eval(expr, row) is True


def _eval(expr: Expr, row: Mapping[str, Any]) -> bool | None:
    match expr:
        case And(items):
            result: bool | None = True
            for item in items:
                value = _eval(item, row)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result
        case Or(items):
            result = False
            for item in items:
                value = _eval(item, row)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result
        case Not(inner):
            value = _eval(inner, row)
            return None if value is None else not value
        case Compare(field, op, literal):
            actual = row[field]
            if literal.kind == "null":
                return (actual is None) == (op == "eq")
            if actual is None:
                return None
            return _compare(_normalize(actual), op, literal.value)
        case InList(field, values):
            if not values:
                return False
            actual = row[field]
            if actual is None:
                return None
            actual = _normalize(actual)
            return any(actual == literal.value for literal in values)
        case Func(name, field, literal):
            actual = row[field]
            if actual is None:
                return None
            text, needle = str(actual), str(literal.value)
            if name == "contains":
                return needle in text
            if name == "startswith":
                return text.startswith(needle)
            return text.endswith(needle)
    raise TypeError(f"not a filter node: {expr!r}")


def _normalize(value: Any) -> Any:
    return as_utc(value) if isinstance(value, datetime) else value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    return bool(actual <= expected)
