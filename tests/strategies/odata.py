"""Hypothesis strategies for OData-lite (K-12): field maps, filter ASTs, filter text and rows."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fabrikit.kernel.odata import (
    COMPARE_OPS,
    FUNCTIONS,
    And,
    Compare,
    CompareOp,
    Expr,
    Field,
    FieldMap,
    Func,
    InList,
    Not,
    Or,
    Value,
)

FIELDS = FieldMap(
    {
        "id": Field("id", "uuid", sortable=True),
        "title": Field("title", "string", sortable=True),
        "n": Field("n", "int", nullable=True),
        "score": Field("score", "float"),
        "price": Field("price", "decimal"),
        "flag": Field("flag", "bool"),
        "at": Field("at", "datetime", sortable=True),
        "day": Field("day", "date"),
        "clock": Field("clock", "time"),
    }
)

ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9)
utc_datetimes = st.datetimes(timezones=st.just(UTC))
texts = st.text(max_size=12)

_KIND_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": texts,
    "int": ints,
    "float": floats,
    "decimal": decimals,
    "bool": st.booleans(),
    "uuid": st.uuids(),
    "datetime": utc_datetimes,
    "date": st.dates(),
    "time": st.times(),
}


def typed_value(kind: str) -> st.SearchStrategy[Value]:
    return _KIND_VALUES[kind].map(lambda v: Value(kind, v))  # type: ignore[arg-type]


@st.composite
def typed_leaf(draw: st.DrawFn, fields: FieldMap = FIELDS) -> Expr:
    field = fields[draw(st.sampled_from(list(fields)))]
    choices = [op for op in ("cmp", "in", "func", "null") if op != "func" or field.kind == "string"]
    shape = draw(st.sampled_from(choices))
    if shape == "null":
        return Compare(field.name, draw(st.sampled_from(("eq", "ne"))), Value("null", None))
    if shape == "in":
        return InList(field.name, tuple(draw(st.lists(typed_value(field.kind), max_size=3))))
    if shape == "func":
        return Func(draw(st.sampled_from(FUNCTIONS)), field.name, draw(typed_value("string")))
    ops: tuple[CompareOp, ...] = ("eq", "ne") if field.kind == "bool" else COMPARE_OPS
    op = draw(st.sampled_from(ops))
    return Compare(field.name, op, draw(typed_value(field.kind)))


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), many.map(And), many.map(Or))


def typed_exprs(fields: FieldMap = FIELDS) -> st.SearchStrategy[Expr]:
    """Typed ASTs that ``check_filter`` accepts for ``fields``."""
    return st.recursive(typed_leaf(fields), _combine, max_leaves=8)


_RAW_FIELDS = st.sampled_from(["a", "title", "Created_At", "x/y", "_n1"])
raw_values = st.one_of(
    texts.map(lambda v: Value("string", v)),
    ints.map(lambda v: Value("int", v)),
    floats.map(lambda v: Value("float", v)),
    decimals.map(lambda v: Value("decimal", v)),
    st.booleans().map(lambda v: Value("bool", v)),
    st.just(Value("null", None)),
    st.uuids().map(lambda v: Value("uuid", v)),
    utc_datetimes.map(lambda v: Value("datetime", v)),
    st.dates().map(lambda v: Value("date", v)),
    st.times().map(lambda v: Value("time", v)),
)
_raw_leaf = st.one_of(
    st.builds(Compare, _RAW_FIELDS, st.sampled_from(COMPARE_OPS), raw_values),
    st.builds(InList, _RAW_FIELDS, st.lists(raw_values, max_size=3).map(tuple)),
    st.builds(Func, st.sampled_from(FUNCTIONS), _RAW_FIELDS, texts.map(lambda v: Value("string", v))),
)
raw_exprs: st.SearchStrategy[Expr] = st.recursive(_raw_leaf, _combine, max_leaves=8)

_TOKENS = [
    "and", "or", "not", "in", "eq", "ne", "gt", "ge", "lt", "le", "contains", "startswith", "endswith",
    "(", ")", ",", "'", "''", "'x'", "title", "n", "id", "flag", "at", "day", "clock", "price", "score", "nope",
    "x/y", "1", "-2", "1.5", "1e3", "1e999", "99999999999999999999", "true", "false", "null", "AND",
    "2024-01-02", "2024-13-02", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1234567+05:30", "10:20", "25:00",
    "12345678-1234-1234-1234-123456789abc", "!", "$", "é", "\t", "1.2.3", "a-b",
]  # fmt: skip
filter_soup = st.lists(st.sampled_from(_TOKENS), max_size=14).map(" ".join)


@st.composite
def rows(draw: st.DrawFn, *, min_size: int = 0, max_size: int = 12) -> list[dict[str, Any]]:
    """Rows for ``FIELDS`` with unique ids; small value pools so ties and matches happen."""
    size = draw(st.integers(min_value=min_size, max_value=max_size))
    ids = draw(st.lists(st.uuids(), min_size=size, max_size=size, unique=True))
    pool_title = st.sampled_from(["", "a", "ab", "B", "b'c", "abc"])
    pool_at = st.sampled_from([draw(utc_datetimes) for _ in range(3)])
    result = []
    for id_ in ids:
        result.append(
            {
                "id": id_,
                "title": draw(pool_title),
                "n": draw(st.one_of(st.none(), st.integers(-3, 3))),
                "score": draw(st.sampled_from([-1.5, 0.0, 2.25])),
                "price": draw(st.sampled_from([Decimal("-1.5"), Decimal("0"), Decimal("2.250")])),
                "flag": draw(st.booleans()),
                "at": draw(pool_at),
                "day": draw(st.dates()),
                "clock": draw(st.times()),
            }
        )
    return result
