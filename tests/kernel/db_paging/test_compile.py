"""K-12.2 SQL rules of ``compile_filter``, checked on the generated SQL text and bound arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Timestamp, Timestamptz, Varchar
from piccolo.table import Table

from fabrikit.kernel.db import SqlColumn, compile_filter, page_query, sql_value, utc_text
from fabrikit.kernel.odata import (
    And,
    Compare,
    Field,
    FieldMap,
    Func,
    InList,
    InvalidFilter,
    Not,
    Or,
    Value,
    plan_query,
)

U = UUID("12345678-1234-1234-1234-123456789ABC")
AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

FIELDS = FieldMap(
    {
        "id": Field("id", "uuid", sortable=True),
        "title": Field("m.title", "string", sortable=True),
        "n": Field("n", "int", nullable=True),
        "score": Field("score", "float"),
        "price": Field("price", "decimal"),
        "flag": Field("flag", "bool"),
        "at": Field(SqlColumn("created_at"), "datetime"),
        "day": Field("day", "date"),
        "clock": Field("clock", "time"),
    }
)


def compile_both(expr: Any) -> dict[str, tuple[str, tuple[Any, ...]]]:
    return {dialect: compile_filter(expr, FIELDS, dialect) for dialect in ("sqlite", "postgres")}  # type: ignore[misc]


def test_null_comparisons_are_is_null() -> None:
    for dialect, (sql, args) in compile_both(Compare("n", "eq", Value("null", None))).items():
        assert (sql, args) == ('("n" IS NULL)', ()), dialect
    for _, (sql, args) in compile_both(Compare("n", "ne", Value("null", None))).items():
        assert (sql, args) == ('("n" IS NOT NULL)', ())


def test_empty_in_list_is_false_and_values_are_bound() -> None:
    for sql, args in compile_both(InList("n", ())).values():
        assert (sql, args) == ("1 = 0", ())
    sqlite, postgres = compile_both(InList("n", (Value("int", 1), Value("int", 2)))).values()
    assert sqlite == ('("n" IN ({}, {}))', (1, 2))
    assert postgres == ('("n" IN (CAST({} AS BIGINT), CAST({} AS BIGINT)))', (1, 2))


def test_string_literals_are_never_inlined() -> None:
    evil = "x'); DROP TABLE item; --"
    for sql, args in compile_both(Compare("title", "eq", Value("string", evil))).values():
        assert evil not in sql
        assert args == (evil,)
        assert sql == '("m"."title" = {})'


def test_postgres_orders_strings_by_code_point() -> None:
    sqlite, postgres = compile_both(Compare("title", "lt", Value("string", "b"))).values()
    assert sqlite[0] == '("m"."title" < {})'
    assert postgres[0] == '("m"."title" COLLATE "C" < {})'


@pytest.mark.parametrize(
    ("func", "needle", "like", "glob"),
    [
        ("contains", "a%b_c\\d", "%a\\%b\\_c\\\\d%", "*a%b_c\\d*"),
        ("startswith", "x*y?[z]", "x*y?[z]%", "x[*]y[?][[]z]*"),
        ("endswith", "", "%", "*"),
    ],
)
def test_string_functions_escape_their_metacharacters(func: Any, needle: str, like: str, glob: str) -> None:
    sqlite, postgres = compile_both(Func(func, "title", Value("string", needle))).values()
    assert postgres == ('("m"."title" LIKE {} ESCAPE \'\\\')', (like,))
    assert sqlite == ('("m"."title" GLOB {})', (glob,))


def test_boolean_structure_is_kept() -> None:
    expr = Or((And((Compare("n", "gt", Value("int", 1)), Not(Compare("flag", "eq", Value("bool", True))))),))
    sql, args = compile_filter(expr, FIELDS, "sqlite")
    assert sql == '((("n" > {}) AND (NOT ("flag" = {}))))'
    assert args == (1, 1)


def test_values_take_each_engines_stored_form() -> None:
    expr = And(
        (
            Compare("id", "eq", Value("uuid", U)),
            Compare("at", "ge", Value("datetime", AT)),
            Compare("day", "eq", Value("date", date(2024, 1, 2))),
            Compare("clock", "lt", Value("time", time(3, 4, 5, 6))),
            Compare("price", "gt", Value("decimal", Decimal("1.5"))),
            Compare("flag", "eq", Value("bool", False)),
        )
    )
    _, sqlite_args = compile_filter(expr, FIELDS, "sqlite")
    assert sqlite_args == (
        "12345678-1234-1234-1234-123456789abc",
        "2024-01-02T03:04:05.000000+00:00",
        "2024-01-02",
        "03:04:05.000006",
        1.5,
        0,
    )
    _, pg_args = compile_filter(expr, FIELDS, "postgres")
    assert pg_args == (U, AT, date(2024, 1, 2), time(3, 4, 5, 6), Decimal("1.5"), False)


def test_utc_text_is_fixed_width_and_converts_to_utc() -> None:
    from datetime import timedelta, timezone

    assert utc_text(datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0005-01-02T03:04:05.000000+00:00"
    plus_two = datetime(2024, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=2)))
    assert utc_text(plus_two) == "2024-01-02T01:04:05.000007+00:00"
    assert utc_text(datetime(2024, 1, 2)) == "2024-01-02T00:00:00.000000+00:00"


def test_piccolo_columns_bind_what_piccolo_stores() -> None:
    class Doc(Table, tablename="compile_doc"):
        owner = UUIDColumn()
        text_ref = Varchar()
        stamp = Timestamptz()
        naive = Timestamp()

    fields = FieldMap(
        {
            "owner": Field(Doc.owner, "uuid"),
            "text_ref": Field(Doc.text_ref, "uuid"),
            "stamp": Field(Doc.stamp, "datetime"),
            "naive": Field(Doc.naive, "datetime"),
        }
    )
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sql_value(fields["owner"], U, "postgres") == U
    assert sql_value(fields["text_ref"], U, "postgres") == str(U).lower()
    assert sql_value(fields["stamp"], at, "sqlite") == "2024-01-02 03:04:05+00:00"
    assert sql_value(fields["stamp"], at, "postgres") == at
    assert sql_value(fields["naive"], at, "postgres") == at.replace(tzinfo=None)
    assert sql_value(fields["naive"], at, "sqlite") == "2024-01-02 03:04:05"
    sql, _ = compile_filter(Compare("stamp", "eq", Value("datetime", at)), fields, "sqlite")
    assert sql == '("stamp" = {})'


def test_per_column_adapter_and_value_adapter_override_the_defaults() -> None:
    fields = FieldMap(
        {
            "at": Field(
                SqlColumn("t.at_epoch", adapt=lambda value, dialect: int(value.timestamp())), "datetime"
            )
        }
    )
    sql, args = compile_filter(Compare("at", "gt", Value("datetime", AT)), fields, "sqlite")
    assert (sql, args) == ('("t"."at_epoch" > {})', (int(AT.timestamp()),))
    _, args = compile_filter(
        Compare("at", "gt", Value("datetime", AT)),
        fields,
        "sqlite",
        value_adapter=lambda f, v, d: f"{f.name}:{d}",
    )
    assert args == ("at:sqlite",)


def test_identifiers_are_quoted_and_braces_escaped() -> None:
    fields = FieldMap({"odd": Field('we"ird{x}', "int")})
    sql, _ = compile_filter(Compare("odd", "eq", Value("int", 1)), fields, "sqlite")
    assert sql == '("we""ird{{x}}" = {})'


def test_nul_characters_are_refused_on_postgres_only() -> None:
    expr = Func("contains", "title", Value("string", "a\x00b"))
    with pytest.raises(InvalidFilter) as info:
        compile_filter(expr, FIELDS, "postgres")
    assert (info.value.status, info.value.code) == (422, "invalid_filter")
    assert compile_filter(expr, FIELDS, "sqlite")[1] == ("*a\x00b*",)


def test_page_query_orders_limits_and_reverses_backward() -> None:
    plan = plan_query(FIELDS, orderby="title desc", limit=3)
    sql, args = page_query("postgres", "items m", plan, select_columns=["m.id", "m.title"])
    assert sql == (
        'SELECT "m"."id", "m"."title" FROM items m ORDER BY "m"."title" COLLATE "C" DESC, "id" DESC LIMIT 4'
    )
    assert args == ()
    sqlite_sql, _ = page_query("sqlite", "items m", plan)
    assert sqlite_sql == 'SELECT * FROM items m ORDER BY "m"."title" DESC, "id" DESC LIMIT 4'
