"""Every row of the K-12 error table, through ``plan_query`` + ``paginate`` as a list endpoint runs them."""

from __future__ import annotations

from typing import Any

import pytest

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.odata import CursorV1, Page, plan_query
from tests.kernel.db_paging.stores import Store
from tests.kernel.db_paging.test_paginate import row

MAX_LIMIT = 100


async def list_items(store: Store, **params: Any) -> Page[dict[str, Any]]:
    """What a list endpoint does with its query parameters."""
    plan = plan_query(store.fields, max_limit=MAX_LIMIT, **params)
    return await store.page(plan)


async def fails(store: Store, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(DomainError) as info:
        await list_items(store, **params)
    return info.value.status, info.value.code, info.value.detail


def cursor(**over: Any) -> str:
    body = {"k": ("t1", "00000000-0000-0000-0000-0000000003e9"), "o": "desc", "s": "+title,-id"} | over
    return CursorV1(**body).encode()


@pytest.fixture
async def loaded(item_store: Store) -> Store:
    await item_store.load([row(i, rank=i) for i in range(3)])
    return item_store


async def test_a_valid_request_runs(loaded: Store) -> None:
    page = await list_items(loaded, filter="rank ge 1", orderby="title", limit="1", select="id,title")
    assert [item["title"] for item in page.items] == ["t1"]
    assert page.page_info.next_cursor is not None


OVERSIZED_FILTERS = [
    ({"filter": "title eq '" + "x" * 8200 + "'"}, "filter too long"),
    ({"filter": " or ".join(["n eq 1"] * 700)}, "filter too complex"),
    ({"filter": "n in (" + ",".join(["1"] * 1999) + ")"}, "filter too complex"),
]


async def test_oversized_filter_is_400(loaded: Store) -> None:
    for params, fragment in OVERSIZED_FILTERS:
        status, code, detail = await fails(loaded, **params)
        assert (status, code) == (400, "invalid_filter")
        assert fragment in detail


BAD_FILTERS = [
    "title eq 'a' and and",  # syntax error
    "nope eq 1",  # unknown field
    "rank eq 'one'",  # type mismatch
    "contains(rank, '1')",  # function on a non-string
    "n gt null",  # null with an ordering operator
]


async def test_bad_filter_is_422(loaded: Store) -> None:
    for text in BAD_FILTERS:
        assert (await fails(loaded, filter=text))[:2] == (422, "invalid_filter"), text


async def test_syntax_error_names_its_position(loaded: Store) -> None:
    _, _, detail = await fails(loaded, filter="title eq 'a' and and")
    assert "position 18" in detail


BAD_CURSORS = [
    {"cursor": cursor(), "orderby": "title"},  # cursor with $orderby
    {"cursor": "%%%"},  # undecodable
    {"cursor": "bm90IGpzb24"},  # not JSON
    {"cursor": cursor(s="+title")},  # keys do not match the order
    {"cursor": cursor(s="+note,-id")},  # sorts by an unsortable field
    {"cursor": cursor(k=("t1", "not-a-uuid"))},  # key does not fit the field kind
    {"cursor": cursor(o="asc")},  # tiebreaker direction differs from the order
]


async def test_bad_cursor_is_422_invalid_cursor(loaded: Store) -> None:
    for params in BAD_CURSORS:
        assert (await fails(loaded, **params))[:2] == (422, "invalid_cursor"), params


async def test_cursor_of_another_filter_is_422_invalid_filter(loaded: Store) -> None:
    page = await list_items(loaded, filter="rank ge 0", limit=1)
    issued = page.page_info.next_cursor
    assert issued is not None
    assert (await list_items(loaded, filter="rank ge 0", cursor=issued, limit=1)).items
    status, code, detail = await fails(loaded, filter="rank ge 1", cursor=issued, limit=1)
    assert (status, code) == (422, "invalid_filter")
    assert "different filter" in detail
    status, code, _ = await fails(loaded, cursor=issued, limit=1)
    assert (status, code) == (422, "invalid_filter")


BAD_ORDERBYS = [
    "title," * 400 + "title",  # > 1024 chars
    ",".join(["title"] * 11),  # > 10 fields
    "title up",  # clause not f / f asc / f desc
    "nope",  # unknown field
    "note",  # not sortable
]


async def test_bad_orderby_is_422(loaded: Store) -> None:
    for orderby in BAD_ORDERBYS:
        assert (await fails(loaded, orderby=orderby))[:2] == (422, "invalid_orderby"), orderby


async def test_bad_limit_is_422(loaded: Store) -> None:
    for limit in ("abc", "1.5", "0", "-3", 0):
        assert (await fails(loaded, limit=limit))[:2] == (422, "invalid_limit"), limit


async def test_limit_above_the_maximum_is_clamped(loaded: Store) -> None:
    page = await list_items(loaded, limit=MAX_LIMIT * 10)
    assert page.page_info.limit == MAX_LIMIT
    assert len(page.items) == 3


async def test_bad_select_is_400(loaded: Store) -> None:
    too_long, too_many = "a," * 1100 + "a", ",".join(f"f{i}" for i in range(101))
    for select in ("", "  ", too_long, too_many, "id,title,ID", "id,,title"):
        assert (await fails(loaded, select=select))[:2] == (400, "invalid_select"), select


async def test_nul_in_a_literal(loaded: Store) -> None:
    """PostgreSQL text cannot hold NUL: refused as 422 there; SQLite simply finds no such title."""
    params = {"filter": "title eq 'a\x00b'"}
    if loaded.db.dialect == "postgres":
        assert (await fails(loaded, **params))[:2] == (422, "invalid_filter")
    else:
        assert (await list_items(loaded, **params)).items == []
