"""OData field maps and list planning for chats and messages (C-4)."""

from __future__ import annotations

from fabrikit.kernel.odata import Field, FieldMap, QueryPlan, plan_query

from .service_api import ListParams

_CMP = ("eq", "ne", "gt", "ge", "lt", "le")

CHAT_FIELDS = FieldMap(
    {
        "id": Field("chats.id", "uuid", ops=("eq", "ne", "in")),
        "title": Field(
            "chats.title", "string", nullable=True, ops=("eq", "ne", "contains", "startswith", "endswith")
        ),
        "created_at": Field("chats.created_at", "datetime", sortable=True, ops=_CMP),
        "updated_at": Field("chats.updated_at", "datetime", sortable=True, ops=_CMP),
    }
)
MESSAGE_FIELDS = FieldMap(
    {
        "id": Field("id", "uuid", sortable=True, ops=("eq", "ne", "in")),
        "role": Field("role", "string", ops=("eq", "ne", "in")),
        "created_at": Field("created_at", "datetime", sortable=True, ops=_CMP),
    }
)


def plan_chats(query: ListParams) -> QueryPlan:
    return plan_query(
        CHAT_FIELDS,
        filter=query.filter,
        orderby=query.orderby,
        cursor=query.cursor,
        limit=query.limit,
        select=query.select,
        tiebreaker=("id", "desc"),
        default_order="updated_at desc",
        tiebreaker_follows_last=True,
        default_limit=20,
        max_limit=100,
    )


def plan_messages(query: ListParams) -> QueryPlan:
    return plan_query(
        MESSAGE_FIELDS,
        filter=query.filter,
        orderby=query.orderby,
        cursor=query.cursor,
        limit=query.limit,
        select=query.select,
        tiebreaker=("id", "asc"),
        default_order="created_at asc",
        tiebreaker_follows_last=True,
        default_limit=20,
        max_limit=100,
    )
