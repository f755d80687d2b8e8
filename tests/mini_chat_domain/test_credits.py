"""CI-7.1 integer credits and CI-7.2 periods."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.credits import (
    buckets_for_tier,
    ceil_div,
    credits_micro,
    next_reset,
    periods_at,
)
from fabrikit.modules.mini_chat.domain.errors import CreditsOverflow
from tests.strategies.mini_chat import multipliers, tokens, utc_datetimes


@given(tokens, tokens, multipliers, multipliers)
def test_credits_match_exact_rational_ceiling(tin: int, tout: int, mi: int, mo: int) -> None:
    expected = math.ceil(Fraction(tin * mi, 1_000_000)) + math.ceil(Fraction(tout * mo, 1_000_000))
    result = credits_micro(tin, tout, mi, mo)
    assert result == expected
    assert isinstance(result, int)


@given(st.integers(0, 10**30), st.integers(1, 10**12))
def test_ceil_div(a: int, b: int) -> None:
    assert ceil_div(a, b) == math.ceil(Fraction(a, b))


def test_components_round_up_separately() -> None:
    # 1 token at 1 µc/Mtok is 1e-6 µc: each component rounds up to 1 on its own.
    assert credits_micro(1, 1, 1, 1) == 2
    assert credits_micro(0, 0, 1, 1) == 0
    assert credits_micro(1_000_000, 0, 3_000_000, 1) == 3_000_000


@pytest.mark.parametrize(
    "args",
    [
        (-1, 0, 1, 1),
        (10**7 + 1, 0, 1, 1),
        (0, 10**7 + 1, 1, 1),
        (0, 0, 0, 1),
        (0, 0, 1, 10**10 + 1),
        (1.5, 0, 1, 1),
    ],
)
def test_guards_raise_internal_error(args: tuple[int, int, int, int]) -> None:
    with pytest.raises(CreditsOverflow) as info:
        credits_micro(*args)
    assert info.value.status == 500
    assert info.value.code == "internal_error"
    assert info.value.detail == "An internal error occurred."


def test_guard_bounds_are_inclusive() -> None:
    assert credits_micro(10**7, 10**7, 10**10, 10**10) == 2 * 10**11


@given(utc_datetimes)
def test_periods_are_utc_day_and_month_start(now: datetime) -> None:
    periods = periods_at(now)
    assert periods.daily == now.date()
    assert periods.monthly == now.date().replace(day=1)
    assert periods.start_of("daily") == periods.daily
    assert periods.start_of("monthly") == periods.monthly


def test_periods_convert_other_offsets_to_utc() -> None:
    from datetime import timezone

    late = datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert periods_at(late).daily == date(2026, 2, 1)
    assert periods_at(late).monthly == date(2026, 2, 1)
    with pytest.raises(ValueError, match="naive"):
        periods_at(datetime(2026, 1, 1))


@given(utc_datetimes)
def test_next_reset_is_the_next_boundary(now: datetime) -> None:
    daily = next_reset("daily", now)
    monthly = next_reset("monthly", now)
    assert daily > now >= daily - timedelta(days=1)
    assert (daily.hour, daily.minute, daily.second, daily.microsecond) == (0, 0, 0, 0)
    assert monthly > now
    assert monthly.day == 1
    assert monthly.tzinfo == UTC
    assert (monthly - timedelta(days=1)).month == now.month


def test_next_reset_rollovers() -> None:
    assert next_reset("daily", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert next_reset("monthly", datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert next_reset("monthly", datetime(2028, 2, 29, 12, tzinfo=UTC)) == datetime(2028, 3, 1, tzinfo=UTC)
    assert next_reset("daily", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)) == datetime(2026, 3, 2, tzinfo=UTC)


def test_buckets() -> None:
    assert buckets_for_tier("premium") == ("total", "tier:premium")
    assert buckets_for_tier("standard") == ("total",)
