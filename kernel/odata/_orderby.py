"""``$orderby`` parsing and the effective sort order (order + tiebreaker)."""

from __future__ import annotations

import re
from typing import Literal as _Literal

import msgspec

from ._errors import InvalidOrderBy
from ._fields import FieldMap

SortDir = _Literal["asc", "desc"]

MAX_ORDERBY_LENGTH = 1024
MAX_ORDERBY_FIELDS = 10

_CLAUSE_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)(?:\s+(asc|desc))?")
_SPEC_ITEM_RE = re.compile(r"([+-])([A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)")


class OrderBy(msgspec.Struct, frozen=True):
    """Sort keys in priority order, e.g. ``OrderBy((("updated_at", "desc"), ("id", "desc")))``."""

    fields: tuple[tuple[str, SortDir], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def spec(self) -> str:
        """The cursor's ``s`` form: ``+f1,-f2``."""
        return ",".join(("+" if d == "asc" else "-") + name for name, d in self.fields)

    @classmethod
    def from_spec(cls, spec: str) -> OrderBy | None:
        """Inverse of ``spec()``; ``None`` if ``spec`` is malformed, empty or names a field twice."""
        items: list[tuple[str, SortDir]] = []
        for part in spec.split(","):
            m = _SPEC_ITEM_RE.fullmatch(part)
            if m is None:
                return None
            items.append((m.group(2), "asc" if m.group(1) == "+" else "desc"))
        names = [name.lower() for name, _ in items]
        if not items or len(set(names)) != len(names):
            return None
        return cls(tuple(items))

    def reversed(self) -> OrderBy:
        """Every direction flipped: the fetch order of a backward page."""
        return OrderBy(tuple((name, "desc" if d == "asc" else "asc") for name, d in self.fields))


def parse_orderby(text: str, fields: FieldMap) -> OrderBy:
    """Parse ``$orderby`` (``f``, ``f asc``, ``f desc`` clauses, comma-separated) against sortable fields.

    Raises ``InvalidOrderBy`` (422). Field names come back in their declared spelling.
    """
    if len(text) > MAX_ORDERBY_LENGTH:
        raise InvalidOrderBy(
            f"$orderby too long: {len(text)} characters, at most {MAX_ORDERBY_LENGTH} allowed"
        )
    clauses = text.split(",")
    if len(clauses) > MAX_ORDERBY_FIELDS:
        raise InvalidOrderBy(f"$orderby has {len(clauses)} fields, at most {MAX_ORDERBY_FIELDS} allowed")
    items: list[tuple[str, SortDir]] = []
    seen: set[str] = set()
    for number, clause in enumerate(clauses, start=1):
        m = _CLAUSE_RE.fullmatch(clause.strip())
        if m is None:
            raise InvalidOrderBy(
                f"$orderby clause {number} {clause.strip()!r} is not 'field', 'field asc' or 'field desc'"
            )
        field = fields.get(m.group(1))
        if field is None:
            raise InvalidOrderBy(f"unknown $orderby field {m.group(1)!r}")
        if not field.sortable:
            raise InvalidOrderBy(f"field {field.name!r} is not sortable")
        if field.name.lower() in seen:
            raise InvalidOrderBy(f"field {field.name!r} appears twice in $orderby")
        seen.add(field.name.lower())
        items.append((field.name, m.group(2) or "asc"))  # type: ignore[arg-type]
    return OrderBy(tuple(items))


def effective_order(
    orderby: OrderBy | None,
    tiebreaker: tuple[str, SortDir] = ("id", "desc"),
    *,
    tiebreaker_follows_last: bool = False,
) -> OrderBy:
    """``orderby`` plus the tiebreaker, unless ``orderby`` already sorts by it.

    With ``tiebreaker_follows_last`` the tiebreaker takes the direction of the last ``orderby`` item
    (mini-chat C-4.5); it keeps its own direction when ``orderby`` is empty.
    """
    items = list(orderby.fields) if orderby else []
    name, direction = tiebreaker
    if any(existing.lower() == name.lower() for existing, _ in items):
        return OrderBy(tuple(items))
    if tiebreaker_follows_last and items:
        direction = items[-1][1]
    return OrderBy((*items, (name, direction)))
