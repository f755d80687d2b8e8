"""Every row of the K-12 error table, with its HTTP status and code."""

from __future__ import annotations

import pytest

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.odata import (
    CursorV1,
    FieldMap,
    OrderBy,
    effective_order,
    parse_filter,
    parse_limit,
    parse_orderby,
    parse_select,
    plan_query,
    resolve_filter,
)
from tests.strategies.odata import FIELDS


def _raises(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


def _cursor(fields: FieldMap = FIELDS, **over) -> str:
    body = {"k": ("b", "12345678-1234-1234-1234-123456789abc"), "o": "desc", "s": "+title,-id"} | over
    return CursorV1(**body).encode()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("title eq '" + "x" * 8200 + "'", "filter too long"),
        (" or ".join(["n eq 1"] * 700), "filter too complex"),
        ("n in (" + ",".join(["1"] * 1999) + ")", "filter too complex"),
    ],
)
def test_oversized_filter_is_400_invalid_filter(text: str, fragment: str) -> None:
    err = _raises(parse_filter, text)
    assert (err.status, err.code) == (400, "invalid_filter")
    assert fragment in err.detail


def test_syntax_error_is_422_invalid_filter_with_position() -> None:
    err = _raises(parse_filter, "title eq 'a' and and")
    assert (err.status, err.code) == (422, "invalid_filter")
    assert "position 18" in err.detail
    assert err.to_problem().extensions == {"position": 18}


@pytest.mark.parametrize(
    "text",
    [
        "nope eq 1",  # unknown field
        "n eq 'one'",  # type mismatch
        "contains(n, '1')",  # function on a non-string
        "n gt null",  # null with an ordering operator
    ],
)
def test_semantic_errors_are_422_invalid_filter(text: str) -> None:
    err = _raises(resolve_filter, text, FIELDS)
    assert (err.status, err.code) == (422, "invalid_filter")


def test_cursor_with_orderby_is_422_invalid_cursor() -> None:
    err = _raises(plan_query, FIELDS, cursor=_cursor(), orderby="title")
    assert (err.status, err.code) == (422, "invalid_cursor")


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", _cursor(s="+title")])
def test_undecodable_or_inconsistent_cursor_is_422_invalid_cursor(cursor: str) -> None:
    err = _raises(plan_query, FIELDS, cursor=cursor)
    assert (err.status, err.code) == (422, "invalid_cursor")


def test_cursor_for_another_filter_is_422_invalid_filter() -> None:
    err = _raises(plan_query, FIELDS, cursor=_cursor(), filter="title eq 'b'")
    assert (err.status, err.code) == (422, "invalid_filter")
    assert err.detail == "cursor was issued for a different filter"


@pytest.mark.parametrize(
    "text",
    [
        "title," * 205 + "title",  # > 1024 chars
        ",".join(["title"] * 11),  # > 10 fields
        "title up",  # clause not f / f asc / f desc
        "nope",  # unknown field
        "n desc",  # not sortable
    ],
)
def test_orderby_errors_are_422_invalid_orderby(text: str) -> None:
    err = _raises(parse_orderby, text, FIELDS)
    assert (err.status, err.code) == (422, "invalid_orderby")


@pytest.mark.parametrize("raw", ["abc", "1.5", "", "0", "-3", 0, -1])
def test_limit_errors_are_422_invalid_limit(raw: str | int) -> None:
    err = _raises(parse_limit, raw)
    assert (err.status, err.code) == (422, "invalid_limit")


@pytest.mark.parametrize(
    "raw", ["", "   ", "a" * 2049, ",".join(f"f{i}" for i in range(101)), "a, A", "a,,b", "a..b"]
)
def test_select_errors_are_400_invalid_select(raw: str) -> None:
    err = _raises(parse_select, raw)
    assert (err.status, err.code) == (400, "invalid_select")


def test_problem_body_carries_status_and_code() -> None:
    problem = _raises(parse_orderby, "nope", FIELDS).to_problem(trace_id="t")
    body = problem.to_dict()
    assert body["status"] == 422
    assert body["code"] == "invalid_orderby"
    assert "nope" in body["detail"]


def test_effective_order_is_not_an_error_path() -> None:
    # Sanity: the happy path next to the error rows.
    assert effective_order(OrderBy((("title", "asc"),))).fields == (("title", "asc"), ("id", "desc"))
