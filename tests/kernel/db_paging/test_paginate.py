"""``paginate`` on real SQLite and PostgreSQL: fixed cases for the rules the property tests sample."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel.db import Database, ScopeColumns, ScopeInvalid, ScopeSql, SqlColumn, paginate
from fabrikit.kernel.odata import CursorV1, Field, FieldMap, plan_query
from fabrikit.kernel.security import AccessScope
from tests.kernel.db_paging.helpers import cursors, ids
from tests.kernel.db_paging.stores import Store
from tests.strategies.db_paging import TENANTS


def row(index: int, **over: Any) -> dict[str, Any]:
    base = {
        "id": UUID(int=1000 + index),
        "tenant_id": TENANTS[0],
        "title": f"t{index}",
        "note": None,
        "rank": 0,
        "n": None,
        "score": None,
        "price": None,
        "flag": None,
        "at": datetime(2024, 1, 2, tzinfo=UTC),
        "day": date(2024, 1, 2),
        "clock": None,
    }
    return base | over


async def walk(store: Store, scope: AccessScope | None = None, **params: Any) -> list[list[str]]:
    """Titles page by page, following ``next_cursor``."""
    pages: list[list[str]] = []
    plan = plan_query(store.fields, **params)
    while True:
        page = await store.page(plan, scope)
        pages.append([item["title"] for item in page.items])
        if page.page_info.next_cursor is None:
            return pages
        params.pop("orderby", None)
        plan = plan_query(store.fields, **(params | {"cursor": page.page_info.next_cursor}))


async def test_strings_sort_by_code_point_whatever_the_column_collation(store: Store) -> None:
    titles = ["b", "a", "A", "[a]", "é", "Z", "ab"]
    await store.load([row(i, title=title) for i, title in enumerate(titles)])
    pages = await walk(store, orderby="title", limit=2)
    assert pages == [["A", "Z"], ["[a]", "a"], ["ab", "b"], ["é"]]


async def test_empty_in_list_is_false_even_for_null_columns(store: Store) -> None:
    await store.load([row(1, n=None), row(2, n=5)])
    for text, expected in [
        ("n in ()", []),
        ("not (n in ())", ["t2", "t1"]),
        ("n in (5)", ["t2"]),
        ("not (n in (5))", []),  # NULL in (...) is unknown, and not unknown is unknown
        ("n eq null", ["t1"]),
        ("n ne null", ["t2"]),
    ]:
        page = await store.page(plan_query(store.fields, filter=text))
        assert [item["title"] for item in page.items] == expected, text


async def test_cursor_links_between_pages(store: Store) -> None:
    await store.load([row(i, rank=i % 2) for i in range(5)])
    first = await store.page(plan_query(store.fields, orderby="rank", limit=2))
    assert [item["title"] for item in first.items] == ["t4", "t2"]
    assert cursors(first) == (True, False)
    second = await store.page(plan_query(store.fields, cursor=first.page_info.next_cursor, limit=2))
    assert [item["title"] for item in second.items] == ["t0", "t3"]
    assert cursors(second) == (True, True)
    back = await store.page(plan_query(store.fields, cursor=second.page_info.prev_cursor, limit=2))
    assert [item["title"] for item in back.items] == ["t4", "t2"]
    assert cursors(back) == (True, False)  # nothing before the first row


async def test_timestamps_compare_as_instants_across_zero_microseconds(store: Store) -> None:
    whole = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    await store.load(
        [row(1, at=whole), row(2, at=whole.replace(microsecond=500000)), row(3, at=whole.replace(year=999))]
    )
    for text, expected in [
        ("at gt 2024-01-02T03:04:05Z", ["t2"]),
        ("at eq 2024-01-02T05:04:05+02:00", ["t1"]),
        ("at le 2024-01-02T03:04:05.000000Z", ["t3", "t1"]),
        ("at lt 1000-01-01T00:00:00Z", ["t3"]),
    ]:
        page = await store.page(plan_query(store.fields, filter=text, orderby="at desc"))
        assert sorted(item["title"] for item in page.items) == sorted(expected), text
    assert await walk(store, orderby="at desc", limit=1) == [["t2"], ["t1"], ["t3"]]


async def test_other_tenants_never_appear(store: Store) -> None:
    mine = [row(i, tenant_id=TENANTS[0]) for i in range(0, 6, 2)]
    theirs = [row(i, tenant_id=TENANTS[1]) for i in range(1, 6, 2)]
    await store.load(mine + theirs)
    scope = AccessScope.for_tenant(TENANTS[0])
    pages = await walk(store, scope, orderby="title", limit=2)
    assert pages == [["t0", "t2"], ["t4"]]
    assert await walk(store, AccessScope.deny_all(), limit=2) == [[]]
    everything = await walk(store, AccessScope.allow_all(), limit=10)
    assert len(everything[0]) == 6
    # A filter naming the other tenant's rows still sees none of them.
    filtered = await store.page(plan_query(store.fields, filter="title in ('t1', 't3', 't4')"), scope)
    assert [item["title"] for item in filtered.items] == ["t4"]


async def test_extra_where_and_select_columns(item_store: Store) -> None:
    await item_store.load([row(i, rank=i) for i in range(4)])
    table = item_store.table
    page = await paginate(
        item_store.db,
        table,
        plan_query(item_store.fields, orderby="rank"),
        scope=AccessScope.allow_all(),
        extra_where=ScopeSql('"rank" >= {}', (2,)),
        select_columns=[table.id, "title", "rank"],
    )
    assert page.items == [
        {"id": UUID(int=1002), "title": "t2", "rank": 2},
        {"id": UUID(int=1003), "title": "t3", "rank": 3},
    ]


async def test_raw_source_with_scope_needs_scope_columns_and_table(raw_store: Store) -> None:
    plan = plan_query(raw_store.fields)
    scope = AccessScope.for_tenant(TENANTS[0])
    with pytest.raises(ScopeInvalid):
        await paginate(raw_store.db, raw_store.source, plan, scope=scope)
    with pytest.raises(ScopeInvalid):
        await paginate(
            raw_store.db, raw_store.source, plan, scope=scope, scope_columns=ScopeColumns(tenant="tenant_id")
        )


async def test_raw_join_rows_and_cursor_keys(raw_store: Store) -> None:
    await raw_store.load([row(1, tenant_id=TENANTS[1], flag=True), row(2, flag=False)])
    page = await raw_store.page(plan_query(raw_store.fields, orderby="at", limit=1), AccessScope.allow_all())
    assert ids(page.items) == [UUID(int=1002)]
    assert page.items[0]["tenant_name"] == "tenant 0"
    nxt = await raw_store.page(plan_query(raw_store.fields, cursor=page.page_info.next_cursor, limit=1))
    assert ids(nxt.items) == [UUID(int=1001)]
    assert nxt.items[0]["tenant_name"] == "tenant 1"


async def test_unqualified_string_columns_on_a_plain_table(db: Database) -> None:
    """Mini-chat style: a raw-DDL table, ``Field`` columns given as names, timestamps as fixed-width text."""
    ts = "TEXT" if db.dialect == "sqlite" else "TIMESTAMPTZ"
    await db.run_ddl(f"CREATE TABLE chats (id TEXT PRIMARY KEY, title TEXT, updated_at {ts} NOT NULL)")
    stamps = [
        "2024-05-01T10:00:00.000000+00:00",
        "2024-05-01T10:00:00.250000+00:00",
        "2024-05-01T09:59:59.999999+00:00",
    ]
    for index, stamp in enumerate(stamps):
        value: Any = stamp if db.dialect == "sqlite" else datetime.fromisoformat(stamp)
        await db.execute("INSERT INTO chats VALUES ({}, {}, {})", f"c{index}", None, value)
    fields = FieldMap(
        {
            "id": Field("id", "string", sortable=True),
            "title": Field(SqlColumn("title"), "string", nullable=True),
            "updated_at": Field("updated_at", "datetime", sortable=True),
        }
    )

    async def ids_matching(text: str) -> list[str]:
        plan = plan_query(fields, filter=text, orderby="updated_at desc", tiebreaker_follows_last=True)
        page = await paginate(db, "chats", plan)
        return [item["id"] for item in page.items]

    assert await ids_matching("updated_at ge 2024-05-01T10:00:00Z and title eq null") == ["c1", "c0"]
    assert await ids_matching("updated_at lt 2024-05-01T10:00:00.000001Z") == ["c0", "c2"]


async def test_cursor_keys_are_canonical_on_every_engine_and_store(store: Store) -> None:
    """K-12.3: keys are RFC 3339 UTC µs ``Z`` and lowercase uuids, whatever form the engine returned."""
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    await store.load([row(i, at=at, day=date(2024, 1, 3)) for i in range(2)])
    page = await store.page(plan_query(store.fields, orderby="at,day", limit=1))
    assert page.page_info.next_cursor is not None
    keys = CursorV1.decode(page.page_info.next_cursor).k
    assert keys == ("2024-01-02T03:04:05.000000Z", "2024-01-03", "00000000-0000-0000-0000-0000000003e9")
