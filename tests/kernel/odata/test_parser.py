"""K-12.1 grammar: precedence, literal forms, syntax errors with positions, size limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

import pytest

from fabrikit.kernel.odata import (
    MAX_FILTER_DEPTH,
    And,
    Compare,
    FilterTooLarge,
    Func,
    InList,
    InvalidFilter,
    Not,
    Or,
    Value,
    node_count,
    parse_filter,
)


def cmp(field: str, value: int) -> Compare:
    return Compare(field, "eq", Value("int", value))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    ast = parse_filter("not a eq 1 and b eq 2 or c eq 3")
    assert ast == Or((And((Not(cmp("a", 1)), cmp("b", 2))), cmp("c", 3)))


def test_or_on_the_left_still_loses_to_and() -> None:
    assert parse_filter("a eq 1 or b eq 2 and c eq 3") == Or((cmp("a", 1), And((cmp("b", 2), cmp("c", 3)))))


def test_parentheses_override_precedence_and_keep_grouping() -> None:
    assert parse_filter("not (a eq 1 or b eq 2)") == Not(Or((cmp("a", 1), cmp("b", 2))))
    assert parse_filter("(a eq 1 and b eq 2) and c eq 3") == And(
        (And((cmp("a", 1), cmp("b", 2))), cmp("c", 3))
    )
    assert parse_filter("a eq 1 and b eq 2 and c eq 3") == And((cmp("a", 1), cmp("b", 2), cmp("c", 3)))


def test_in_list_functions_and_paths() -> None:
    assert parse_filter("a in ()") == InList("a", ())
    assert parse_filter("a in (1, 'x')") == InList("a", (Value("int", 1), Value("string", "x")))
    assert parse_filter("startswith(meta/name, 'ab')") == Func(
        "startswith", "meta/name", Value("string", "ab")
    )


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'it''s'", Value("string", "it's")),
        ("''", Value("string", "")),
        ("42", Value("int", 42)),
        ("-7", Value("int", -7)),
        ("1.50", Value("decimal", Decimal("1.50"))),
        ("1.5e3", Value("float", 1500.0)),
        ("2E-2", Value("float", 0.02)),
        ("true", Value("bool", True)),
        ("false", Value("bool", False)),
        ("null", Value("null", None)),
        ("2024-05-06", Value("date", date(2024, 5, 6))),
        ("10:20", Value("time", time(10, 20))),
        ("10:20:30.1234567", Value("time", time(10, 20, 30, 123456))),
        ("2024-05-06T10:20:30Z", Value("datetime", datetime(2024, 5, 6, 10, 20, 30, tzinfo=UTC))),
        (
            "2024-05-06T12:20:30.5+02:00",
            Value("datetime", datetime(2024, 5, 6, 10, 20, 30, 500000, tzinfo=UTC)),
        ),
        (
            "ABCDEF12-1234-1234-1234-123456789abc",
            Value("uuid", UUID("abcdef12-1234-1234-1234-123456789abc")),
        ),
        ("deadbeef-0000-0000-0000-000000000000", Value("uuid", UUID("deadbeef-0000-0000-0000-000000000000"))),
    ],
)
def test_literal_forms(literal: str, expected: Value) -> None:
    ast = parse_filter(f"f eq {literal}")
    assert isinstance(ast, Compare)
    assert ast.value == expected
    assert ast.value.kind == expected.kind


def test_datetimes_are_aware_utc() -> None:
    ast = parse_filter("f eq 2024-01-01T00:30:00-01:00")
    assert isinstance(ast, Compare)
    assert ast.value.value == datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    assert ast.value.value.tzinfo is UTC  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 1, "empty filter"),
        ("a eq", 5, "expected a literal"),
        ("a eq 1 b eq 2", 8, "expected 'and', 'or'"),
        ("a foo 1", 3, "expected an operator"),
        ("a eq 'x", 6, "unterminated string"),
        ("(a eq 1", 8, "expected ')'"),
        ("a eq 1 AND b eq 2", 8, "expected 'and', 'or'"),
        ("a EQ 1", 3, "expected an operator"),
        ("a eq 1.2.3", 6, "invalid token"),
        ("a eq 2024-02-30", 6, "invalid date literal"),
        ("a eq 2024-01-01T10:00Z", 6, "invalid token"),
        ("a eq 2024-01-01T10:00:00", 6, "invalid token"),
        ("a eq 25:00", 6, "invalid time literal"),
        ("a eq 99999999999999999999", 6, "invalid int literal"),
        ("a eq 1e999", 6, "invalid float literal"),
        ("a eq !", 6, "unexpected character '!'"),
        ("a in (1,)", 9, "expected a literal"),
        ("a in 1", 6, "expected '(' after 'in'"),
        ("contains(a, 1)", 13, "quoted string"),
        ("contains('a', 'b')", 10, "a field"),
        ("eq eq 1", 1, "expected a field"),
        ("a eq b", 6, "expected a literal"),
        ("true eq a", 1, "expected a field"),
    ],
)
def test_syntax_errors_report_their_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert info.value.status == 422
    assert fragment in info.value.detail
    assert f"at position {position}" in info.value.detail
    assert info.value.extension_values["position"] == position


def test_length_limit_is_exactly_8192() -> None:
    at_limit = "a eq '" + "x" * (8192 - 7) + "'"
    assert len(at_limit) == 8192
    parse_filter(at_limit)
    with pytest.raises(FilterTooLarge):
        parse_filter(at_limit + " ")


def test_node_limit_is_exactly_2000() -> None:
    at_limit = "a in (" + ",".join(["1"] * 1998) + ")"
    assert node_count(parse_filter(at_limit)) == 2000
    with pytest.raises(FilterTooLarge) as info:
        parse_filter("a in (" + ",".join(["1"] * 1999) + ")")
    assert info.value.status == 400


def test_node_count_matches_the_parser_accounting() -> None:
    ast = parse_filter("not (a eq 1 or contains(b, 'x')) and c in (1, 2)")
    # And, Not, Or, 2 × (op + field + literal), in + field + 2 literals
    assert node_count(ast) == 3 + 6 + 4


def test_deep_nesting_is_refused_not_a_crash() -> None:
    ok = "(" * MAX_FILTER_DEPTH + "a eq 1" + ")" * MAX_FILTER_DEPTH
    assert parse_filter(ok) == cmp("a", 1)
    for deep in ("(" * 4000 + "a eq 1" + ")" * 4000, "not " * 2000 + "a eq 1"):
        with pytest.raises(FilterTooLarge) as info:
            parse_filter(deep)
        assert info.value.status == 400
        assert "too complex" in info.value.detail


def test_keywords_are_lowercase_only_and_reserved() -> None:
    # An upper-case keyword is an identifier, so it lands where an operator or connective belongs.
    with pytest.raises(InvalidFilter):
        parse_filter("NOT a eq 1")
    with pytest.raises(InvalidFilter):
        parse_filter("not eq 1")


def test_whitespace_is_flexible() -> None:
    assert parse_filter("  a   eq\t1\n") == cmp("a", 1)
    assert parse_filter("contains ( a ,'x' )") == Func("contains", "a", Value("string", "x"))
    assert parse_filter("a in(1,2)") == InList("a", (Value("int", 1), Value("int", 2)))
