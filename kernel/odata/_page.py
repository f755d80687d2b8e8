"""Keyset paging pieces that need no database: the cursor predicate, page assembly and the response shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cmp_to_key
from typing import Any, Generic, TypeVar

import msgspec

from ._ast import And, Compare, Expr, Or, Value
from ._cursor import CursorV1, Direction, key_to_text
from ._fields import FieldMap
from ._literals import as_utc
from ._orderby import OrderBy

T = TypeVar("T")
KeyOf = Callable[[Any, str], Any]


class PageInfo(msgspec.Struct, frozen=True):
    next_cursor: str | None
    prev_cursor: str | None
    limit: int


class Page(msgspec.Struct, Generic[T]):
    """The list response body ``{"items": [...], "page_info": {...}}`` (absent cursors encode as ``null``)."""

    items: list[T]
    page_info: PageInfo


def default_key_of(row: Any, name: str) -> Any:
    """Sort-key value of a row: ``row[name]`` for mappings, else ``getattr(row, name)``."""
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def cursor_predicate(
    order: OrderBy, keys: Sequence[Any], fields: FieldMap, direction: Direction = "fwd"
) -> Expr:
    """Rows strictly after the boundary ``keys`` in ``order`` (``direction="fwd"``) or strictly before it
    (``"bwd"``), as a typed filter: ``(a > ka) or (a = ka and b < kb) or …`` with ``>``/``<`` per field
    direction. Built internally, so it bypasses per-field ``ops`` allowlists."""
    if len(keys) != len(order.fields):
        raise ValueError("one key per order field is needed")
    branches: list[Expr] = []
    for i, (name, sort_dir) in enumerate(order.fields):
        ascending = (sort_dir == "asc") == (direction == "fwd")
        terms: list[Expr] = [
            Compare(prior, "eq", _typed(fields, prior, keys[j]))
            for j, (prior, _) in enumerate(order.fields[:i])
        ]
        terms.append(Compare(name, "gt" if ascending else "lt", _typed(fields, name, keys[i])))
        branches.append(terms[0] if len(terms) == 1 else And(tuple(terms)))
    return branches[0] if len(branches) == 1 else Or(tuple(branches))


def _typed(fields: FieldMap, name: str, value: Any) -> Value:
    return Value(fields[name].kind, value)


def sort_rows(rows: Sequence[T], order: OrderBy, key_of: KeyOf = default_key_of) -> list[T]:
    """``rows`` sorted by ``order`` (per-field directions; naive datetimes as UTC)."""

    def compare(a: T, b: T) -> int:
        for name, sort_dir in order.fields:
            x, y = _sortable(key_of(a, name)), _sortable(key_of(b, name))
            if x != y:
                less = x < y
                return (-1 if less else 1) * (1 if sort_dir == "asc" else -1)
        return 0

    return sorted(rows, key=cmp_to_key(compare))


def _sortable(value: Any) -> Any:
    return as_utc(value) if isinstance(value, datetime) else value


def build_page(
    rows: Sequence[T],
    *,
    limit: int,
    order: OrderBy,
    direction: Direction = "fwd",
    had_cursor: bool = False,
    filter_hash: str | None = None,
    key_of: KeyOf = default_key_of,
) -> Page[T]:
    """Turn the ``limit + 1`` rows fetched in fetch order into a page (K-12.4).

    Forward: items = first ``limit`` rows; ``next_cursor`` (last item) iff more rows came back,
    ``prev_cursor`` (first item, ``d=bwd``) iff the request had a cursor. Backward: rows are reversed into
    display order; ``next_cursor`` whenever there are items, ``prev_cursor`` iff more rows came back.
    No items → no cursors (a cursor needs a boundary row). Cursors carry ``order`` as ``s`` and
    ``filter_hash`` as ``f``.
    """
    more = len(rows) > limit
    items = list(rows[:limit])
    if direction == "bwd":
        items.reverse()

    def cursor(row: T, d: Direction) -> str:
        keys = tuple(key_to_text(key_of(row, name)) for name in order.names)
        return CursorV1(k=keys, o=order.fields[-1][1], s=order.spec(), f=filter_hash, d=d).encode()

    next_cursor = prev_cursor = None
    if items:
        if direction == "fwd":
            next_cursor = cursor(items[-1], "fwd") if more else None
            prev_cursor = cursor(items[0], "bwd") if had_cursor else None
        else:
            next_cursor = cursor(items[-1], "fwd")
            prev_cursor = cursor(items[0], "bwd") if more else None
    return Page(
        items=items, page_info=PageInfo(next_cursor=next_cursor, prev_cursor=prev_cursor, limit=limit)
    )
