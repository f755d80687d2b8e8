"""Printer round trip and the K-12.3 filter hash (canonical prefix form)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given

from fabrikit.kernel.odata import (
    Expr,
    canonical_filter,
    check_filter,
    filter_hash,
    parse_filter,
    print_filter,
    resolve_filter,
)
from tests.strategies.odata import FIELDS, raw_exprs, typed_exprs

UID = "12345678-1234-1234-1234-123456789abc"


def test_canonical_prefix_form() -> None:
    typed = resolve_filter(
        f"Title eq 'A''b' and not (id eq '{UID.upper()}' or at gt 2024-01-01T02:00:00+02:00) or n in ()",
        FIELDS,
    )
    assert canonical_filter(typed) == (
        f"(or (and (eq title 'A''b') (not (or (eq id {UID}) (gt at 2024-01-01T00:00:00.000000Z)))) (in n))"
    )


def test_hash_is_first_8_bytes_of_sha256_as_16_hex() -> None:
    typed = resolve_filter("title eq 'x'", FIELDS)
    expected = hashlib.sha256(b"(eq title 'x')").digest()[:8].hex()
    assert filter_hash(typed) == expected
    assert len(expected) == 16


def test_no_filter_has_no_hash() -> None:
    assert filter_hash(None) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("title eq 'x' and n gt 1", "  title   eq 'x'\tand n gt 1 "),
        ("title eq 'x'", "TITLE eq 'x'"),
        ("title eq 'x'", "(title eq 'x')"),
        (f"id eq {UID}", f"id eq {UID.upper()}"),
        (f"id eq {UID}", f"id eq '{UID}'"),
        ("at eq 2024-01-01T00:00:00Z", "at eq 2024-01-01T05:30:00+05:30"),
        ("at eq 2024-01-01T00:00:00Z", "at eq '2024-01-01T00:00:00.000000z'"),
        ("price eq 1.5", "price eq 1.50"),
    ],
)
def test_same_filter_same_hash(a: str, b: str) -> None:
    assert filter_hash(resolve_filter(a, FIELDS)) == filter_hash(resolve_filter(b, FIELDS))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("title eq 'x'", "title eq 'X'"),
        ("title eq 'x'", "title ne 'x'"),
        ("n gt 1", "n ge 1"),
        ("n eq 1 and title eq 'a'", "title eq 'a' and n eq 1"),
        ("n eq 1 and title eq 'a'", "n eq 1 or title eq 'a'"),
        ("title eq 'x'", "not title eq 'x'"),
        ("contains(title, 'x')", "startswith(title, 'x')"),
        ("n in (1, 2)", "n in (2, 1)"),
        ("n eq null", "n ne null"),
    ],
)
def test_different_filter_different_hash(a: str, b: str) -> None:
    assert filter_hash(resolve_filter(a, FIELDS)) != filter_hash(resolve_filter(b, FIELDS))


def test_printer_output() -> None:
    ast = parse_filter("not (a eq 'it''s' or b in (1, 2.50)) and contains(c, 'x') or d eq 1.5e0")
    assert print_filter(ast) == ("not (a eq 'it''s' or b in (1, 2.50)) and contains(c, 'x') or d eq 1.5e0")


@given(raw_exprs)
def test_parse_print_round_trip_raw(ast: Expr) -> None:
    assert parse_filter(print_filter(ast)) == ast


@given(typed_exprs())
def test_parse_print_round_trip_typed(ast: Expr) -> None:
    again = check_filter(parse_filter(print_filter(ast)), FIELDS)
    assert again == ast
    assert filter_hash(again) == filter_hash(ast)
