"""Semantic check against a FieldMap (K-12 table row 3, K-12.1 quoted-literal rule, K-12.2 kinds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

import pytest

from fabrikit.kernel.odata import (
    Compare,
    Field,
    FieldMap,
    Func,
    InList,
    InvalidFilter,
    Value,
    check_filter,
    parse_filter,
    resolve_filter,
)
from tests.strategies.odata import FIELDS

UID = "12345678-1234-1234-1234-123456789abc"

# mini-chat C-4 "chats" list: id (eq, ne, in); title (eq, ne, functions); timestamps (eq…le).
CHATS = FieldMap(
    {
        "id": Field("id", "uuid", ops=["eq", "ne", "in"]),
        "title": Field("title", "string", ops=["eq", "ne", "contains", "startswith", "endswith"]),
        "created_at": Field("created_at", "datetime", sortable=True),
        "updated_at": Field("updated_at", "datetime", sortable=True),
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n eq 3", Value("int", 3)),
        ("score eq 3", Value("float", 3.0)),
        ("score eq 1.25", Value("float", 1.25)),
        ("price eq 3", Value("decimal", Decimal(3))),
        ("price eq 1.5e1", Value("decimal", Decimal("15.0"))),
        ("price eq 0.10", Value("decimal", Decimal("0.10"))),
        ("flag eq true", Value("bool", True)),
        (f"id eq {UID}", Value("uuid", UUID(UID))),
        (f"id eq '{UID.upper()}'", Value("uuid", UUID(UID))),
        ("at eq '2024-01-01T01:00:00+01:00'", Value("datetime", datetime(2024, 1, 1, tzinfo=UTC))),
        ("day eq '2024-02-29'", Value("date", date(2024, 2, 29))),
        ("clock eq '23:59:59'", Value("time", time(23, 59, 59))),
        ("title eq '5'", Value("string", "5")),
    ],
)
def test_literals_are_coerced_to_the_field_kind(text: str, expected: Value) -> None:
    ast = resolve_filter(text, FIELDS)
    assert isinstance(ast, Compare)
    assert ast.value == expected
    assert ast.value.kind == expected.kind
    assert type(ast.value.value) is type(expected.value)


def test_field_names_are_case_insensitive_and_come_back_declared() -> None:
    assert resolve_filter("TITLE eq 'x'", FIELDS) == Compare("title", "eq", Value("string", "x"))
    fields = FieldMap({"createdAt": Field(None, "int")})
    assert resolve_filter("createdat eq 1", fields) == Compare("createdAt", "eq", Value("int", 1))


def test_in_lists_and_functions_are_checked() -> None:
    assert resolve_filter(f"id in ('{UID}', {UID})", FIELDS) == InList(
        "id", (Value("uuid", UUID(UID)), Value("uuid", UUID(UID)))
    )
    assert resolve_filter("endswith(Title, 'z')", FIELDS) == Func("endswith", "title", Value("string", "z"))


def test_null_with_eq_and_ne_is_fine() -> None:
    assert resolve_filter("n eq null", FIELDS) == Compare("n", "eq", Value("null", None))
    assert resolve_filter("title ne null", FIELDS) == Compare("title", "ne", Value("null", None))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("nope eq 1", "unknown field 'nope'"),
        ("n eq 'one'", "has type int"),
        ("n eq 1.5", "but the literal has type decimal"),
        ("n eq true", "but the literal has type bool"),
        ("title eq 5", "but the literal has type int"),
        ("flag eq 1", "but the literal has type int"),
        ("id eq 'not-a-uuid'", "is not a valid uuid"),
        ("at eq '2024-01-01'", "is not a valid datetime"),
        ("at eq 2024-01-01", "but the literal has type date"),
        ("day eq 'tomorrow'", "is not a valid date"),
        ("clock eq '25:00'", "is not a valid time"),
        ("contains(n, '1')", "'contains' needs a string field"),
        ("startswith(id, 'a')", "needs a string field"),
        ("n gt null", "null cannot be used with 'gt'"),
        ("title le null", "null cannot be used with 'le'"),
        ("n in (1, null)", "null is not allowed"),
        ("flag gt false", "operator 'gt' is not allowed"),
        ("score eq " + "9" * 400 + ".0", "out of range"),
    ],
)
def test_semantic_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        resolve_filter(text, FIELDS)
    assert info.value.status == 422
    assert fragment in info.value.detail
    assert "at position" in info.value.detail


def test_semantic_error_points_at_the_predicate() -> None:
    with pytest.raises(InvalidFilter) as info:
        resolve_filter("n eq 1 and   nope eq 2", FIELDS)
    assert info.value.extension_values["position"] == 14


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (f"id eq {UID}", True),
        (f"id in ({UID})", True),
        (f"id gt {UID}", False),
        ("title eq 'a'", True),
        ("contains(title, 'a')", True),
        ("title in ('a')", False),
        ("title gt 'a'", False),
        ("created_at le 2024-01-01T00:00:00Z", True),
    ],
)
def test_per_field_operator_allowlist(text: str, ok: bool) -> None:
    if ok:
        resolve_filter(text, CHATS)
    else:
        with pytest.raises(InvalidFilter, match="not allowed on field"):
            resolve_filter(text, CHATS)


def test_check_is_idempotent_on_typed_trees() -> None:
    typed = resolve_filter(f"id eq '{UID}' and price gt 1 or not contains(title, 'x')", FIELDS)
    assert check_filter(typed, FIELDS) == typed


def test_raw_tree_is_left_untouched() -> None:
    raw = parse_filter("Title eq 'x'")
    check_filter(raw, FIELDS)
    assert raw == Compare("Title", "eq", Value("string", "x"))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "text"}, "unknown field kind"),
        ({"kind": "int", "sortable": True, "nullable": True}, "must not be nullable"),
        ({"kind": "int", "ops": ["eq", "like"]}, "unknown operator"),
        ({"kind": "int", "ops": ["contains"]}, "only allowed on string"),
    ],
)
def test_field_declaration_errors(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Field(None, **kwargs)


def test_fieldmap_declaration_errors() -> None:
    with pytest.raises(ValueError, match="clashes"):
        FieldMap({"a": Field(None, "int"), "A": Field(None, "int")})
    with pytest.raises(ValueError, match="must match"):
        FieldMap({"a-b": Field(None, "int")})


def test_fieldmap_is_a_case_insensitive_mapping() -> None:
    assert "TITLE" in FIELDS
    assert FIELDS["Title"].name == "title"
    assert FIELDS["title"].column == "title"
    assert list(FIELDS)[:2] == ["id", "title"]
    assert len(FIELDS) == 9
    with pytest.raises(KeyError):
        FIELDS["nope"]
