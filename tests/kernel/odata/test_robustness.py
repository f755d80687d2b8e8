"""Hypothesis: any input gives a result or a DomainError, never another exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.odata import (
    CursorV1,
    Expr,
    InvalidFilter,
    evaluate,
    node_count,
    parse_limit,
    parse_orderby,
    parse_select,
    plan_query,
    resolve_filter,
)
from tests.strategies.odata import FIELDS, filter_soup, rows


def _filter_or_domain_error(text: str) -> Expr | None:
    try:
        return resolve_filter(text, FIELDS)
    except InvalidFilter:  # anything else escapes and fails the test
        return None


@given(filter_soup, rows(min_size=1, max_size=1))
def test_token_soup_never_crashes(text: str, sample: list[dict]) -> None:
    ast = _filter_or_domain_error(text)
    if ast is not None:
        assert node_count(ast) <= 2000
        evaluate(ast, sample[0])


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _filter_or_domain_error(text)


@given(st.text(max_size=60))
def test_other_parameters_never_crash(text: str) -> None:
    for call in (
        lambda: parse_orderby(text, FIELDS),
        lambda: parse_select(text),
        lambda: parse_limit(text),
        lambda: CursorV1.decode(text),
        lambda: plan_query(FIELDS, cursor=text),
    ):
        try:
            call()
        except DomainError:
            pass
