"""The in-memory evaluator: SQL WHERE semantics (K-12.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given

from fabrikit.kernel.odata import And, Expr, Not, Or, evaluate, resolve_filter
from tests.strategies.odata import FIELDS, rows, typed_exprs

ROW: dict[str, Any] = {
    "id": None,
    "title": "Hello World",
    "n": None,
    "score": 1.5,
    "price": None,
    "flag": True,
    "at": datetime(2024, 1, 1, 12, tzinfo=UTC),
    "day": None,
    "clock": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title eq 'Hello World'", True),
        ("title eq 'hello world'", False),
        ("contains(title, 'lo W')", True),
        ("contains(title, 'lo w')", False),
        ("startswith(title, 'Hell')", True),
        ("startswith(title, 'hell')", False),
        ("endswith(title, 'World')", True),
        ("contains(title, '%')", False),
        ("title gt 'Hello'", True),
        ("title in ('x', 'Hello World')", True),
        ("title in ()", False),
        ("not title in ()", True),
        ("n eq null", True),
        ("n ne null", False),
        ("title eq null", False),
        ("title ne null", True),
        ("n eq 1", False),
        ("n ne 1", False),  # NULL <> 1 is unknown in SQL
        ("not n eq 1", False),  # NOT unknown is unknown
        ("n eq 1 or flag eq true", True),  # unknown OR true
        ("n eq 1 and flag eq true", False),  # unknown AND true
        ("not (n eq 1 and flag eq false)", True),  # NOT (unknown AND false) = NOT false
        ("n in (1, 2)", False),
        ("not n in (1, 2)", False),
        ("score ge 1.5", True),
        ("score lt 2", True),
        ("at eq 2024-01-01T13:00:00+01:00", True),
        ("at gt '2024-01-01T11:59:59.999999Z'", True),
        ("flag ne false", True),
    ],
)
def test_sql_semantics(text: str, expected: bool) -> None:
    assert evaluate(resolve_filter(text, FIELDS), ROW) is expected


def test_naive_datetimes_in_rows_are_utc() -> None:
    row = {**ROW, "at": datetime(2024, 1, 1, 12)}
    assert evaluate(resolve_filter("at eq 2024-01-01T12:00:00Z", FIELDS), row)
    assert evaluate(resolve_filter("at in (2024-01-01T12:00:00Z)", FIELDS), row)


def test_missing_row_key_is_a_bug_not_a_silent_false() -> None:
    with pytest.raises(KeyError):
        evaluate(resolve_filter("title eq 'x'", FIELDS), {})


@given(typed_exprs(), rows(min_size=1, max_size=1))
def test_de_morgan_holds_under_three_valued_logic(expr: Expr, sample: list[dict[str, Any]]) -> None:
    row = sample[0]
    left = And((expr, Not(expr)))
    right = Not(Or((Not(expr), expr)))
    assert evaluate(left, row) == evaluate(right, row)
    # Exactly one of e, not e matches, unless e is unknown (then neither does).
    assert not (evaluate(expr, row) and evaluate(Not(expr), row))


@given(typed_exprs(), rows(min_size=1, max_size=1))
def test_without_nulls_not_is_plain_negation(expr: Expr, sample: list[dict[str, Any]]) -> None:
    row = {**sample[0], "n": 0}
    assert evaluate(Not(expr), row) is (not evaluate(expr, row))
