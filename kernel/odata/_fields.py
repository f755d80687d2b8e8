"""What a resource exposes to ``$filter``/``$orderby``: ``Field`` and ``FieldMap`` (K-12.2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from typing import Literal as _Literal

from ._ast import COMPARE_OPS, FUNCTIONS

FieldKind = _Literal["string", "int", "float", "decimal", "bool", "uuid", "datetime", "date", "time"]
FIELD_KINDS: tuple[FieldKind, ...] = (
    "string",
    "int",
    "float",
    "decimal",
    "bool",
    "uuid",
    "datetime",
    "date",
    "time",
)

ALL_OPS: frozenset[str] = frozenset((*COMPARE_OPS, "in", *FUNCTIONS))
_DEFAULT_OPS: dict[str, frozenset[str]] = {
    "string": ALL_OPS,
    "bool": frozenset({"eq", "ne", "in"}),
}
_SCALAR_OPS = frozenset((*COMPARE_OPS, "in"))
FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """One filterable/sortable property.

    ``column`` is opaque here (the db layer passes a Piccolo column). ``ops`` narrows the operators a client
    may use (names from ``eq ne gt ge lt le in contains startswith endswith``); by default strings allow all,
    bools ``eq ne in``, other kinds all but the string functions. ``name`` is filled in by ``FieldMap``.
    """

    column: Any
    kind: FieldKind
    sortable: bool = False
    nullable: bool = False
    ops: frozenset[str] | None = None
    name: str = ""

    def __init__(
        self,
        column: Any,
        kind: FieldKind,
        sortable: bool = False,
        nullable: bool = False,
        ops: Iterable[str] | None = None,
        name: str = "",
    ) -> None:
        if kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {kind!r}; expected one of {', '.join(FIELD_KINDS)}")
        if sortable and nullable:
            raise ValueError("a sortable field must not be nullable (cursor keys cannot hold null)")
        allowed = _DEFAULT_OPS.get(kind, _SCALAR_OPS)
        if ops is not None:
            ops = frozenset(ops)
            unknown = ops - ALL_OPS
            if unknown:
                raise ValueError(f"unknown operator(s) {sorted(unknown)}")
            if kind != "string" and ops & set(FUNCTIONS):
                raise ValueError("string functions are only allowed on string fields")
            allowed = ops
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "sortable", sortable)
        object.__setattr__(self, "nullable", nullable)
        object.__setattr__(self, "ops", allowed)
        object.__setattr__(self, "name", name)

    def allows(self, op: str) -> bool:
        return self.ops is None or op in self.ops


class FieldMap(Mapping[str, Field]):
    """Fields by name. Names keep their declared spelling but are looked up case-insensitively."""

    def __init__(self, fields: Mapping[str, Field]) -> None:
        self._fields: dict[str, Field] = {}
        self._by_lower: dict[str, Field] = {}
        for name, field in fields.items():
            if not FIELD_NAME_RE.fullmatch(name):
                raise ValueError(f"field name {name!r} must match {FIELD_NAME_RE.pattern}")
            if name.lower() in self._by_lower:
                raise ValueError(f"field name {name!r} clashes with {self._by_lower[name.lower()].name!r}")
            named = replace(field, name=name)
            self._fields[name] = named
            self._by_lower[name.lower()] = named

    def get(self, name: str, default: Any = None) -> Any:
        return self._by_lower.get(name.lower(), default)

    def __getitem__(self, name: str) -> Field:
        field = self._by_lower.get(name.lower())
        if field is None:
            raise KeyError(name)
        return field

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"FieldMap({list(self._fields)})"
