"""Hypothesis strategies for SQL paging (K-12.2, K-12.4): adversarial rows and typed filters over them.

Values come from small pools (so filters match, sort keys tie and NULLs meet every operator) mixed with a few
random ones. Strings hold LIKE/GLOB metacharacters, quotes, backslashes and non-ASCII text, never NUL
(PostgreSQL text cannot store it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fabrikit.kernel.odata import COMPARE_OPS, FUNCTIONS, And, Compare, Expr, Func, InList, Not, Or, Value

TENANTS = (uuid.UUID(int=1), uuid.UUID(int=2))

TITLES = (
    "",
    "a",
    "A",
    "ab",
    "abc",
    "a%b",
    "a_b",
    "50%",
    "x*y",
    "x?y",
    "[a]",
    "a\\b",
    "é",
    "日本",
    "Ω",
    "a b",
    "'q'",
)
NEEDLES = (
    "",
    "a",
    "A",
    "b",
    "%",
    "_",
    "*",
    "?",
    "[",
    "]",
    "\\",
    "'",
    "é",
    "日",
    "a%",
    "_b",
    "[a",
    "x*",
    "?y",
)
INTS = (-2, -1, 0, 1, 2)
BIG_INTS = (-(2**62), -1, 0, 1, 2**40, 2**62)
FLOATS = (-1.5, -0.0, 0.0, 2.25, 1e300)
DECIMALS = (Decimal("-1.5"), Decimal("0"), Decimal("2.250"), Decimal("123456.789"))
DATETIMES = (
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),  # zero microseconds: text forms must stay fixed-width
    datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
    datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
)
DATES = (date(2024, 1, 2), date(2024, 1, 3), date(999, 1, 1))
TIMES = (time(0, 0), time(0, 0, 0, 1), time(12, 30), time(23, 59, 59, 999999))

# kind → (field names of that kind, pool)
_NAMES_BY_KIND: dict[str, tuple[str, ...]] = {
    "uuid": ("id",),
    "string": ("title", "note"),
    "int": ("rank", "n"),
    "float": ("score",),
    "decimal": ("price",),
    "bool": ("flag",),
    "datetime": ("at",),
    "date": ("day",),
    "time": ("clock",),
}
FIELD_KINDS = {name: kind for kind, names in _NAMES_BY_KIND.items() for name in names}
SORTABLE = ("title", "rank", "at", "day")

safe_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)

_RANDOM: dict[str, st.SearchStrategy[Any]] = {
    "string": safe_text,
    "int": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "decimal": st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9
    ),
    "bool": st.booleans(),
    "uuid": st.uuids(),
    "datetime": st.datetimes(timezones=st.just(UTC)),
    "date": st.dates(),
    "time": st.times(),
}


@st.composite
def item_rows(draw: st.DrawFn, *, max_size: int = 12) -> list[dict[str, Any]]:
    """Rows for the test ``item`` tables (unique ids; ties in every sort key; NULLs in nullable columns)."""
    size = draw(st.integers(min_value=0, max_value=max_size))
    ids = draw(st.lists(st.uuids(), min_size=size, max_size=size, unique=True))
    at_pool = (*DATETIMES, draw(_RANDOM["datetime"]))
    rows = []
    for id_ in ids:
        rows.append(
            {
                "id": id_,
                "tenant_id": draw(st.sampled_from(TENANTS)),
                "title": draw(st.sampled_from(TITLES)),
                "note": draw(st.none() | st.sampled_from(TITLES)),
                "rank": draw(st.sampled_from(INTS)),
                "n": draw(st.none() | st.sampled_from(BIG_INTS)),
                "score": draw(st.none() | st.sampled_from(FLOATS)),
                "price": draw(st.none() | st.sampled_from(DECIMALS)),
                "flag": draw(st.none() | st.booleans()),
                "at": draw(st.sampled_from(at_pool)),
                "day": draw(st.sampled_from(DATES)),
                "clock": draw(st.none() | st.sampled_from(TIMES)),
            }
        )
    return rows


def _pool(kind: str) -> tuple[Any, ...]:
    return {
        "string": TITLES,
        "int": INTS + BIG_INTS,
        "float": FLOATS,
        "decimal": DECIMALS,
        "bool": (True, False),
        "uuid": (uuid.UUID(int=7),),
        "datetime": DATETIMES,
        "date": DATES,
        "time": TIMES,
    }[kind]


def literal(kind: str, row_values: list[Any] | None = None) -> st.SearchStrategy[Value]:
    """A typed literal: mostly a pooled or row value (so it matches), sometimes a random one."""
    choices = [st.sampled_from(_pool(kind)), _RANDOM[kind]]
    if row_values:
        choices.insert(0, st.sampled_from(row_values))
    return st.one_of(*choices).map(lambda v: Value(kind, v))  # type: ignore[arg-type]


@st.composite
def leaf(draw: st.DrawFn, rows: list[dict[str, Any]]) -> Expr:
    name = draw(st.sampled_from(sorted(FIELD_KINDS)))
    kind = FIELD_KINDS[name]
    present = [row[name] for row in rows if row[name] is not None]
    shapes = ["cmp", "cmp", "in", "null"] + (["func", "func"] if kind == "string" else [])
    shape = draw(st.sampled_from(shapes))
    if shape == "null":
        return Compare(name, draw(st.sampled_from(("eq", "ne"))), Value("null", None))
    if shape == "in":
        return InList(name, tuple(draw(st.lists(literal(kind, present), max_size=3))))
    if shape == "func":
        needle = draw(st.one_of(st.sampled_from(NEEDLES), safe_text))
        return Func(draw(st.sampled_from(FUNCTIONS)), name, Value("string", needle))
    ops = ("eq", "ne") if kind == "bool" else COMPARE_OPS
    return Compare(name, draw(st.sampled_from(ops)), draw(literal(kind, present)))


def filters(rows: list[dict[str, Any]]) -> st.SearchStrategy[Expr]:
    """Typed filters over the item fields, literals biased towards values present in ``rows``."""

    def combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        many = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(children.map(Not), many.map(And), many.map(Or))

    return st.recursive(leaf(rows), combine, max_leaves=6)


@st.composite
def orderbys(draw: st.DrawFn) -> str | None:
    """A random ``$orderby`` over the sortable item fields (or none)."""
    names = draw(st.lists(st.sampled_from((*SORTABLE, "id")), max_size=3, unique=True))
    if not names:
        return None
    return ",".join(name + draw(st.sampled_from(("", " asc", " desc"))) for name in names)
