"""From raw list query parameters to a checked plan (K-12.4 minus the SQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ._ast import And, Expr
from ._check import resolve_filter
from ._cursor import CursorV1, Direction, key_from_text
from ._errors import InvalidCursor, InvalidFilter
from ._evaluate import evaluate
from ._fields import FieldMap
from ._limit import parse_limit
from ._orderby import OrderBy, SortDir, effective_order, parse_orderby
from ._page import KeyOf, Page, build_page, cursor_predicate, default_key_of, sort_rows
from ._printer import filter_hash
from ._select import parse_select

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A checked list request.

    ``filter`` is the typed ``$filter`` AST (or ``None``); ``order`` the effective order incl. tiebreaker;
    ``cursor_keys`` the typed boundary values (``None`` without a cursor); ``select`` the ``$select`` names.
    """

    fields: FieldMap
    filter: Expr | None
    filter_hash: str | None
    order: OrderBy
    limit: int
    direction: Direction
    cursor_keys: tuple[Any, ...] | None
    select: tuple[str, ...] | None

    @property
    def had_cursor(self) -> bool:
        return self.cursor_keys is not None

    @property
    def fetch_order(self) -> OrderBy:
        """ORDER BY for the query: the display order, reversed for a backward page."""
        return self.order.reversed() if self.direction == "bwd" else self.order

    @property
    def fetch_limit(self) -> int:
        return self.limit + 1

    def where(self) -> Expr | None:
        """``$filter`` AND the cursor predicate, as one typed AST (the caller adds the access scope)."""
        parts: list[Expr] = []
        if self.filter is not None:
            parts.append(self.filter)
        if self.cursor_keys is not None:
            parts.append(cursor_predicate(self.order, self.cursor_keys, self.fields, self.direction))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def page(self, rows: Sequence[T], key_of: KeyOf = default_key_of) -> Page[T]:
        """``build_page`` with this plan's limit, order, direction, cursor and filter hash."""
        return build_page(
            rows,
            limit=self.limit,
            order=self.order,
            direction=self.direction,
            had_cursor=self.had_cursor,
            filter_hash=self.filter_hash,
            key_of=key_of,
        )


def plan_query(
    fields: FieldMap,
    *,
    filter: str | None = None,
    orderby: str | None = None,
    cursor: str | None = None,
    limit: str | int | None = None,
    select: str | None = None,
    tiebreaker: tuple[str, SortDir] = ("id", "desc"),
    default_order: OrderBy | str | None = None,
    tiebreaker_follows_last: bool = False,
    default_limit: int = 25,
    max_limit: int = 1000,
) -> QueryPlan:
    """Check every list parameter (raising the K-12 table's errors) and return the plan.

    Without a cursor the order is ``$orderby`` (else ``default_order``) plus ``tiebreaker``; with one it is
    the cursor's ``s``, and ``$orderby`` alongside is ``InvalidCursor``. A cursor whose filter hash differs
    from this request's ``$filter`` is ``InvalidFilter`` ("cursor was issued for a different filter").
    """
    tiebreak_field = fields.get(tiebreaker[0])
    if tiebreak_field is None:
        raise ValueError(f"tiebreaker {tiebreaker[0]!r} must be declared in the FieldMap")
    tiebreaker = (tiebreak_field.name, tiebreaker[1])
    page_size = parse_limit(limit, default=default_limit, max=max_limit)
    selected = parse_select(select) if select is not None else None
    typed = resolve_filter(filter, fields) if filter is not None else None
    digest = filter_hash(typed)
    if cursor is None:
        if orderby is not None:
            base: OrderBy | None = parse_orderby(orderby, fields)
        elif isinstance(default_order, str):
            base = parse_orderby(default_order, fields)
        else:
            base = default_order
        order = effective_order(base, tiebreaker, tiebreaker_follows_last=tiebreaker_follows_last)
        return QueryPlan(fields, typed, digest, order, page_size, "fwd", None, selected)
    if orderby is not None:
        raise InvalidCursor("cursor cannot be combined with $orderby: the cursor carries its order")
    decoded = CursorV1.decode(cursor)
    order = _cursor_order(decoded, fields, tiebreaker[0])
    keys = tuple(
        key_from_text(text, fields[name].kind) for text, name in zip(decoded.k, order.names, strict=True)
    )
    if decoded.f != digest:
        raise InvalidFilter("cursor was issued for a different filter")
    return QueryPlan(fields, typed, digest, order, page_size, decoded.d, keys, selected)


def _cursor_order(cursor: CursorV1, fields: FieldMap, tiebreaker: str) -> OrderBy:
    # The tiebreaker need not be client-sortable (mini-chat chats sort by id only as a tiebreaker).
    items: list[tuple[str, SortDir]] = []
    for name, direction in cursor.order.fields:
        field = fields.get(name)
        if field is None or not (field.sortable or field.name == tiebreaker):
            raise InvalidCursor(f"cursor sorts by {name!r}, which is not a sortable field here")
        items.append((field.name, direction))
    if cursor.o != items[-1][1]:
        raise InvalidCursor("cursor tiebreaker direction does not match its sort order")
    return OrderBy(tuple(items))


def paginate_rows(
    rows: Sequence[Mapping[str, Any]], plan: QueryPlan, key_of: KeyOf = default_key_of
) -> Page[Mapping[str, Any]]:
    """The whole K-12.4 algorithm in memory: the reference the SQL implementation is tested against."""
    where = plan.where()
    matching = [row for row in rows if where is None or evaluate(where, row)]
    fetched = sort_rows(matching, plan.fetch_order, key_of)[: plan.fetch_limit]
    return plan.page(fetched, key_of)
