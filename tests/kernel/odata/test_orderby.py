"""$orderby parsing and the effective order with its tiebreaker (K-12 table, K-12.4, mini-chat C-4.5)."""

from __future__ import annotations

import pytest

from fabrikit.kernel.odata import Field, FieldMap, InvalidOrderBy, OrderBy, effective_order, parse_orderby
from tests.strategies.odata import FIELDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title", (("title", "asc"),)),
        ("title asc", (("title", "asc"),)),
        ("title desc", (("title", "desc"),)),
        (" At  desc ,TITLE ", (("at", "desc"), ("title", "asc"))),
        ("at desc,id", (("at", "desc"), ("id", "asc"))),
    ],
)
def test_clauses(text: str, expected: tuple) -> None:
    assert parse_orderby(text, FIELDS).fields == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is not 'field'"),
        ("title,", "clause 2"),
        ("title DESC", "is not 'field'"),
        ("title desc asc", "is not 'field'"),
        ("title  descending", "is not 'field'"),
        ("nope", "unknown $orderby field 'nope'"),
        ("n", "not sortable"),
        ("title, TITLE desc", "appears twice"),
        (",".join(["title"] * 11), "at most 10"),
        ("t" * 1025, "too long"),
    ],
)
def test_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidOrderBy) as info:
        parse_orderby(text, FIELDS)
    assert fragment in info.value.detail
    assert info.value.status == 422


def test_ten_fields_and_1024_chars_are_allowed() -> None:
    fields = {f"f{i}": i for i in range(10)}
    many = FieldMap({name: Field(None, "int", sortable=True) for name in fields})
    assert len(parse_orderby(",".join(fields), many).fields) == 10
    padded = "title" + " " * (1024 - len("title"))
    assert parse_orderby(padded, FIELDS).fields == (("title", "asc"),)


def test_tiebreaker_is_appended_once() -> None:
    assert effective_order(OrderBy((("at", "asc"),))).fields == (("at", "asc"), ("id", "desc"))
    assert effective_order(OrderBy((("id", "asc"),))).fields == (("id", "asc"),)
    assert effective_order(None).fields == (("id", "desc"),)
    assert effective_order(OrderBy(), ("key", "asc")).fields == (("key", "asc"),)


def test_tiebreaker_can_follow_the_last_direction() -> None:
    order = OrderBy((("at", "desc"), ("title", "asc")))
    assert effective_order(order, ("id", "desc"), tiebreaker_follows_last=True).fields[-1] == ("id", "asc")
    assert effective_order(None, ("id", "desc"), tiebreaker_follows_last=True).fields == (("id", "desc"),)


def test_spec_round_trip_and_reverse() -> None:
    order = OrderBy((("at", "desc"), ("id", "asc")))
    assert order.spec() == "-at,+id"
    assert OrderBy.from_spec("-at,+id") == order
    assert order.reversed().fields == (("at", "asc"), ("id", "desc"))
    for bad in ("", "at", "+at,", "+at,-at", "*at", "+a b"):
        assert OrderBy.from_spec(bad) is None
