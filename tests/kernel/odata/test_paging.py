"""Keyset paging without a database (K-12.4): build_page, cursor predicate, plan_query, full walks."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabrikit.kernel.odata import (
    Compare,
    CursorV1,
    Direction,
    Field,
    FieldMap,
    InvalidCursor,
    InvalidFilter,
    OrderBy,
    Page,
    PageInfo,
    build_page,
    cursor_predicate,
    evaluate,
    filter_hash,
    paginate_rows,
    plan_query,
    print_filter,
    resolve_filter,
    sort_rows,
)
from tests.strategies.odata import FIELDS, rows

ORDER = OrderBy((("title", "asc"), ("id", "desc")))


def _rows(*titles: str) -> list[dict[str, Any]]:
    return [{"title": t, "id": f"{i:08d}-0000-0000-0000-000000000000"} for i, t in enumerate(titles)]


def _keys(cursor: str | None) -> tuple[str, ...] | None:
    return None if cursor is None else CursorV1.decode(cursor).k


def test_forward_first_page_with_more_rows() -> None:
    page = build_page(_rows("a", "b", "c"), limit=2, order=ORDER)
    assert [r["title"] for r in page.items] == ["a", "b"]
    assert _keys(page.page_info.next_cursor) == ("b", "00000001-0000-0000-0000-000000000000")
    assert page.page_info.prev_cursor is None
    assert page.page_info.limit == 2
    decoded = CursorV1.decode(page.page_info.next_cursor or "")
    assert (decoded.s, decoded.o, decoded.d, decoded.f) == ("+title,-id", "desc", "fwd", None)


def test_forward_last_page_after_a_cursor() -> None:
    page = build_page(_rows("c", "d"), limit=2, order=ORDER, had_cursor=True, filter_hash="0123456789abcdef")
    assert page.page_info.next_cursor is None
    prev = CursorV1.decode(page.page_info.prev_cursor or "")
    assert (prev.k[0], prev.d, prev.f) == ("c", "bwd", "0123456789abcdef")


def test_backward_page_is_reversed_into_display_order() -> None:
    # Fetched in reversed order: nearest row to the boundary first.
    page = build_page(_rows("c", "b", "a"), limit=2, order=ORDER, direction="bwd", had_cursor=True)
    assert [r["title"] for r in page.items] == ["b", "c"]
    assert _keys(page.page_info.next_cursor)[0] == "c"  # type: ignore[index]
    assert CursorV1.decode(page.page_info.prev_cursor or "").k[0] == "b"


def test_backward_page_at_the_start_has_no_prev() -> None:
    page = build_page(_rows("b", "a"), limit=2, order=ORDER, direction="bwd", had_cursor=True)
    assert page.page_info.prev_cursor is None
    assert page.page_info.next_cursor is not None


def test_empty_page_has_no_cursors() -> None:
    directions: tuple[Direction, ...] = ("fwd", "bwd")
    for direction in directions:
        page: Page[Any] = build_page([], limit=5, order=ORDER, direction=direction, had_cursor=True)
        assert page.items == []
        assert page.page_info == PageInfo(next_cursor=None, prev_cursor=None, limit=5)


def test_page_json_shape() -> None:
    page = Page(items=[{"a": 1}], page_info=PageInfo(next_cursor=None, prev_cursor="x", limit=3))
    assert msgspec.json.decode(msgspec.json.encode(page)) == {
        "items": [{"a": 1}],
        "page_info": {"next_cursor": None, "prev_cursor": "x", "limit": 3},
    }


def test_build_page_reads_attributes_by_default_and_accepts_key_of() -> None:
    class Row:
        def __init__(self, title: str) -> None:
            self.title, self.id = title, title.upper()

    page = build_page([Row("a"), Row("b")], limit=1, order=ORDER)
    assert _keys(page.page_info.next_cursor) == ("a", "A")
    tuple_page = build_page(
        [("a", 1), ("b", 2)], limit=1, order=ORDER, key_of=lambda r, n: r[0] if n == "title" else r[1]
    )
    assert _keys(tuple_page.page_info.next_cursor) == ("a", "1")


def test_cursor_predicate_is_lexicographic_with_per_field_direction() -> None:
    order = OrderBy((("at", "desc"), ("title", "asc"), ("n", "desc")))
    fields = FieldMap({"at": Field(None, "int"), "title": Field(None, "string"), "n": Field(None, "int")})
    fwd = cursor_predicate(order, (1, "t", 2), fields)
    assert print_filter(fwd) == ("at lt 1 or at eq 1 and title gt 't' or at eq 1 and title eq 't' and n lt 2")
    bwd = cursor_predicate(order, (1, "t", 2), fields, "bwd")
    assert print_filter(bwd) == ("at gt 1 or at eq 1 and title lt 't' or at eq 1 and title eq 't' and n gt 2")
    n_eq_5 = resolve_filter("n eq 5", fields)
    assert isinstance(n_eq_5, Compare)
    assert cursor_predicate(OrderBy((("n", "asc"),)), (5,), fields) == Compare("n", "gt", n_eq_5.value)


def test_plan_without_cursor() -> None:
    plan = plan_query(
        FIELDS, filter="n gt 1", orderby="title desc", limit="500", select="Title", max_limit=100
    )
    assert plan.order.fields == (("title", "desc"), ("id", "desc"))
    assert (plan.limit, plan.fetch_limit, plan.direction, plan.had_cursor) == (100, 101, "fwd", False)
    assert plan.select == ("title",)
    assert plan.filter_hash == filter_hash(resolve_filter("n gt 1", FIELDS))
    assert plan.where() == plan.filter


def test_plan_default_order_and_limit() -> None:
    plan = plan_query(FIELDS, default_order="at desc", tiebreaker_follows_last=True, default_limit=20)
    assert plan.order.fields == (("at", "desc"), ("id", "desc"))
    assert (plan.limit, plan.filter, plan.filter_hash, plan.select) == (20, None, None, None)
    assert plan.where() is None
    messages = plan_query(FIELDS, default_order=OrderBy((("at", "asc"),)), tiebreaker_follows_last=True)
    assert messages.order.fields == (("at", "asc"), ("id", "asc"))


def test_plan_with_cursor_takes_order_from_cursor() -> None:
    cursor = CursorV1(
        k=("x", "12345678-1234-1234-1234-123456789abc"), o="desc", s="+title,-id", d="bwd"
    ).encode()
    plan = plan_query(FIELDS, cursor=cursor)
    assert plan.order.fields == (("title", "asc"), ("id", "desc"))
    assert plan.direction == "bwd"
    assert plan.fetch_order.fields == (("title", "desc"), ("id", "asc"))
    assert str(plan.cursor_keys[1]) == "12345678-1234-1234-1234-123456789abc"  # type: ignore[index]


@pytest.mark.parametrize(
    ("cursor", "fragment"),
    [
        (CursorV1(k=("1",), o="asc", s="+n").encode(), "not a sortable field"),
        (CursorV1(k=("1",), o="asc", s="+nope").encode(), "not a sortable field"),
        (CursorV1(k=("x", "1"), o="asc", s="+title,-id").encode(), "tiebreaker direction"),
        (CursorV1(k=("x", "not-a-uuid"), o="desc", s="+title,-id").encode(), "not a valid uuid"),
    ],
)
def test_plan_rejects_cursors_that_do_not_fit_the_fields(cursor: str, fragment: str) -> None:
    with pytest.raises(InvalidCursor, match=fragment):
        plan_query(FIELDS, cursor=cursor)


def test_plan_checks_the_cursor_filter_hash_both_ways() -> None:
    digest = filter_hash(resolve_filter("n gt 1", FIELDS))
    cursor = CursorV1(
        k=("x", "12345678-1234-1234-1234-123456789abc"), o="desc", s="+title,-id", f=digest
    ).encode()
    plan_query(FIELDS, cursor=cursor, filter="n  gt 1")
    with pytest.raises(InvalidFilter, match="different filter"):
        plan_query(FIELDS, cursor=cursor)
    with pytest.raises(InvalidFilter, match="different filter"):
        plan_query(FIELDS, cursor=cursor, filter="n gt 2")


def test_tiebreaker_need_not_be_client_sortable() -> None:
    chats = FieldMap(
        {"id": Field(None, "uuid", ops=["eq", "ne", "in"]), "at": Field(None, "int", sortable=True)}
    )
    plan = plan_query(chats, default_order="at desc", limit=1)
    page = plan.page([{"id": "12345678-1234-1234-1234-123456789abc", "at": 1}] * 2, key_of=lambda r, n: r[n])
    follow = plan_query(chats, cursor=page.page_info.next_cursor)
    assert follow.order.fields == (("at", "desc"), ("id", "desc"))
    with pytest.raises(ValueError, match="tiebreaker"):
        plan_query(chats, tiebreaker=("key", "asc"))


def _walk(data: list[dict[str, Any]], **query: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    """Walk forward to the end, then back to the start; return the id pages of both walks."""
    forward: list[list[Any]] = []
    page = paginate_rows(data, plan_query(FIELDS, **query))
    forward.append([r["id"] for r in page.items])
    query.pop("orderby", None)
    while page.page_info.next_cursor:
        page = paginate_rows(data, plan_query(FIELDS, **query, cursor=page.page_info.next_cursor))
        forward.append([r["id"] for r in page.items])
    backward: list[list[Any]] = [forward[-1]]
    while page.page_info.prev_cursor:
        page = paginate_rows(data, plan_query(FIELDS, **query, cursor=page.page_info.prev_cursor))
        backward.append([r["id"] for r in page.items])
    return forward, backward


@settings(max_examples=60)
@given(
    data=rows(max_size=14),
    limit=st.integers(min_value=1, max_value=5),
    orderby=st.sampled_from([None, "title", "title desc", "at desc,title", "at, title desc, id asc"]),
    filter=st.sampled_from([None, "n ne null", "contains(title, 'b') or n gt 0", "not flag eq true"]),
)
def test_walking_pages_visits_every_row_once_in_order(
    data: list[dict[str, Any]], limit: int, orderby: str | None, filter: str | None
) -> None:
    forward, backward = _walk(data, limit=limit, orderby=orderby, filter=filter)
    plan = plan_query(FIELDS, orderby=orderby, filter=filter)
    expected = [
        r["id"]
        for r in sort_rows([r for r in data if plan.filter is None or evaluate(plan.filter, r)], plan.order)
    ]
    assert [row for page in forward for row in page] == expected
    assert all(0 < len(page) <= limit for page in forward) or expected == []
    # Going back from the last page retraces exactly the same pages.
    assert list(reversed(backward)) == forward
