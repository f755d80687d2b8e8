"""The immutable ``$filter`` AST.

The parser yields a *raw* tree (field names as written, literal kinds as spelled); ``check_filter``
yields a *typed* tree of the same node classes (field names as declared in the ``FieldMap``, literal values
coerced to the field's kind). Walk it with ``match``::

    match node:
        case And(items) | Or(items): ...
        case Not(expr): ...
        case Compare(field, op, value): ...
        case InList(field, values): ...
        case Func(name, field, value): ...

``pos`` (1-based offset into the source text, 0 when synthesized) is left out of equality and hashing, so a
tree re-parsed from its printed form compares equal to the original.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Literal as _Literal

ValueKind = _Literal["string", "int", "float", "decimal", "bool", "null", "uuid", "datetime", "date", "time"]
CompareOp = _Literal["eq", "ne", "gt", "ge", "lt", "le"]
FuncName = _Literal["contains", "startswith", "endswith"]

COMPARE_OPS: tuple[CompareOp, ...] = ("eq", "ne", "gt", "ge", "lt", "le")
ORDERING_OPS: tuple[CompareOp, ...] = ("gt", "ge", "lt", "le")
FUNCTIONS: tuple[FuncName, ...] = ("contains", "startswith", "endswith")


@dataclass(frozen=True, slots=True)
class Value:
    """A literal. ``value`` is ``str``/``int``/``float``/``Decimal``/``bool``/``None``/``UUID``/aware UTC
    ``datetime``/``date``/``time`` according to ``kind``."""

    kind: ValueKind
    value: object


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: CompareOp
    value: Value
    pos: int = _field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InList:
    field: str
    values: tuple[Value, ...]
    pos: int = _field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Func:
    name: FuncName
    field: str
    value: Value
    pos: int = _field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


Expr = And | Or | Not | Compare | InList | Func


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        match node:
            case And(items) | Or(items):
                stack.extend(reversed(items))
            case Not(inner):
                stack.append(inner)


def node_count(expr: Expr) -> int:
    """Nodes as the size limit counts them: every operator node, field reference and literal."""
    total = 0
    for node in walk(expr):
        total += 1
        match node:
            case Compare() | Func():
                total += 2
            case InList(_, values):
                total += 1 + len(values)
    return total
