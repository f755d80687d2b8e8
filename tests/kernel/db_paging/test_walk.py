"""K-12.4 on real SQLite and PostgreSQL: page walks over SQL equal the in-memory reference ``paginate_rows``.

A forward walk visits every matching row exactly once in order; walking back from the last page visits them in
reverse; each page (items and which cursors it has) equals ``paginate_rows`` for the same plan; an AccessScope
keeps rows of other tenants out of every page.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabrikit.kernel.odata import (
    Expr,
    QueryPlan,
    SortDir,
    evaluate,
    paginate_rows,
    plan_query,
    print_filter,
    sort_rows,
)
from fabrikit.kernel.security import AccessScope
from tests.kernel.db_paging.helpers import cursors, ids
from tests.kernel.db_paging.stores import Store
from tests.strategies.db_paging import TENANTS, filters, item_rows, orderbys

SCOPES = (
    None,
    AccessScope.allow_all(),
    AccessScope.deny_all(),
    AccessScope.for_tenant(TENANTS[0]),
    AccessScope.for_tenant(TENANTS[1]),
    AccessScope.for_tenant(*TENANTS),
)


def visible(rows: list[dict[str, Any]], scope: AccessScope | None) -> list[dict[str, Any]]:
    if scope is None:
        return rows
    return [row for row in rows if scope.matches({"owner_tenant_id": row["tenant_id"], "id": row["id"]})]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_walks_match_the_in_memory_reference(store: Store, data: st.DataObject) -> None:
    rows = data.draw(item_rows(max_size=10), label="rows")
    expr = data.draw(st.none() | filters(rows), label="filter")
    orderby = data.draw(orderbys(), label="orderby")
    limit = data.draw(st.integers(min_value=1, max_value=4), label="limit")
    tiebreak = data.draw(st.sampled_from(("asc", "desc")), label="tiebreak")
    follows_last = data.draw(st.booleans(), label="follows_last")
    scope = data.draw(st.sampled_from(SCOPES), label="scope")
    async with store.db.transaction(write=True):  # one connection per example (and paging inside a txn)
        await check_walks(store, rows, expr, orderby, limit, tiebreak, follows_last, scope)


async def check_walks(
    store: Store,
    rows: list[dict[str, Any]],
    expr: Expr | None,
    orderby: str | None,
    limit: int,
    tiebreak: SortDir,
    follows_last: bool,
    scope: AccessScope | None,
) -> None:
    await store.load(rows)
    allowed = visible(rows, scope)
    text = print_filter(expr) if expr is not None else None

    def plan_for(cursor: str | None = None) -> QueryPlan:
        return plan_query(
            store.fields,
            filter=text,
            orderby=orderby if cursor is None else None,
            cursor=cursor,
            limit=limit,
            tiebreaker=("id", tiebreak),
            tiebreaker_follows_last=follows_last,
        )

    async def step(plan: QueryPlan) -> Any:
        page = await store.page(plan, scope)
        reference = paginate_rows(allowed, plan)
        assert ids(page.items) == ids(reference.items)
        assert cursors(page) == cursors(reference)
        assert page.page_info.limit == limit
        tenants = {UUID(str(item["tenant_id"])) for item in page.items}
        assert tenants <= {row["tenant_id"] for row in allowed}
        return page

    first_plan = plan_for()
    matching = [row for row in allowed if first_plan.filter is None or evaluate(first_plan.filter, row)]
    expected = [row["id"] for row in sort_rows(matching, first_plan.order)]

    page = await step(first_plan)
    assert page.page_info.prev_cursor is None
    forward = ids(page.items)
    while page.page_info.next_cursor is not None:
        assert len(forward) <= len(expected), "the walk does not end"
        page = await step(plan_for(page.page_info.next_cursor))
        forward += ids(page.items)
    assert forward == expected

    backward = ids(page.items)
    cursor = page.page_info.prev_cursor
    while cursor is not None:
        assert len(backward) <= len(expected), "the backward walk does not end"
        page = await step(plan_for(cursor))
        assert page.page_info.next_cursor is not None
        backward = ids(page.items) + backward
        cursor = page.page_info.prev_cursor
    assert backward == expected
