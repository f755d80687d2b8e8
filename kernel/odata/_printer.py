"""Text forms of a filter AST: the ``$filter`` printer and the canonical form behind the filter hash."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from ._ast import And, Compare, Expr, Func, InList, Not, Or, Value
from ._literals import canonical_decimal, format_datetime, format_decimal, format_float, format_time


def print_filter(expr: Expr) -> str:
    """``$filter`` text that parses back to an equal AST."""
    match expr:
        case And(items):
            return " and ".join(_wrap(item, (And, Or)) for item in items)
        case Or(items):
            return " or ".join(_wrap(item, (Or,)) for item in items)
        case Not(inner):
            return "not " + _wrap(inner, (And, Or))
        case Compare(field, op, value):
            return f"{field} {op} {_literal(value)}"
        case InList(field, values):
            return f"{field} in ({', '.join(_literal(value) for value in values)})"
        case Func(name, field, value):
            return f"{name}({field}, {_literal(value)})"
    raise TypeError(f"not a filter node: {expr!r}")


def _wrap(expr: Expr, needs_parens: tuple[type, ...]) -> str:
    text = print_filter(expr)
    return f"({text})" if isinstance(expr, needs_parens) else text


def _literal(literal: Value) -> str:
    value = literal.value
    match literal.kind:
        case "string":
            return "'" + str(value).replace("'", "''") + "'"
        case "null":
            return "null"
        case "bool":
            return "true" if value else "false"
        case "float":
            return format_float(value)  # type: ignore[arg-type]
        case "decimal":
            return format_decimal(value)  # type: ignore[arg-type]
    return _scalar_text(value)


def _scalar_text(value: object) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return str(value)


def canonical_filter(expr: Expr) -> str:
    """Prefix form hashed by ``filter_hash``: identifiers lowercased, uuids lowercase, datetimes UTC.

    ``title eq 'A' and not id in (…)`` → ``(and (eq title 'A') (not (in id <uuid>)))``.
    """
    match expr:
        case And(items):
            return "(and " + " ".join(canonical_filter(item) for item in items) + ")"
        case Or(items):
            return "(or " + " ".join(canonical_filter(item) for item in items) + ")"
        case Not(inner):
            return f"(not {canonical_filter(inner)})"
        case Compare(field, op, value):
            return f"({op} {field.lower()} {_canonical_literal(value)})"
        case InList(field, values):
            return f"(in {field.lower()}" + "".join(" " + _canonical_literal(v) for v in values) + ")"
        case Func(name, field, value):
            return f"({name.lower()} {field.lower()} {_canonical_literal(value)})"
    raise TypeError(f"not a filter node: {expr!r}")


def _canonical_literal(literal: Value) -> str:
    if literal.kind == "decimal" and isinstance(literal.value, Decimal):
        return canonical_decimal(literal.value)
    if literal.kind == "float" and isinstance(literal.value, float):
        return repr(literal.value)
    return _literal(literal)


def filter_hash(expr: Expr | None) -> str | None:
    """First 8 bytes of SHA-256 of ``canonical_filter(expr)`` as 16 lowercase hex; ``None`` for no filter.

    Hash the *typed* AST so spellings the checker coerces to one value (``'<uuid>'`` vs ``<uuid>``) match.
    """
    if expr is None:
        return None
    return hashlib.sha256(canonical_filter(expr).encode()).digest()[:8].hex()
