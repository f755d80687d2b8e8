"""Integer micro-credits (CI-7.1), UTC quota periods (CI-7.2) and buckets (CI-7.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal

import msgspec

from .errors import CreditsOverflow

MICRO_PER_CREDIT = 1_000_000
TOKENS_PER_MULTIPLIER_UNIT = 1_000_000
MAX_TOKENS = 10**7
MIN_MULTIPLIER = 1
MAX_MULTIPLIER = 10**10

Tier = Literal["standard", "premium"]
PeriodType = Literal["daily", "monthly"]
Bucket = Literal["total", "tier:premium"]

BUCKET_TOTAL: Bucket = "total"
BUCKET_PREMIUM: Bucket = "tier:premium"
PERIOD_TYPES: tuple[PeriodType, PeriodType] = ("daily", "monthly")


def ceil_div(numerator: int, denominator: int) -> int:
    """Ceiling of a non-negative integer quotient, without floats."""
    return -(-numerator // denominator)


def _check_tokens(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise CreditsOverflow(f"{name}={value!r} outside 0..{MAX_TOKENS}")


def _check_multiplier(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_MULTIPLIER <= value <= MAX_MULTIPLIER:
        raise CreditsOverflow(f"{name}={value!r} outside {MIN_MULTIPLIER}..{MAX_MULTIPLIER}")


def credits_micro(
    input_tokens: int, output_tokens: int, input_multiplier: int, output_multiplier: int
) -> int:
    """``ceil(in·mi / 10⁶) + ceil(out·mo / 10⁶)``, each component rounded up; raises CreditsOverflow (a 500)."""
    _check_tokens("input_tokens", input_tokens)
    _check_tokens("output_tokens", output_tokens)
    _check_multiplier("input_multiplier", input_multiplier)
    _check_multiplier("output_multiplier", output_multiplier)
    return ceil_div(input_tokens * input_multiplier, TOKENS_PER_MULTIPLIER_UNIT) + ceil_div(
        output_tokens * output_multiplier, TOKENS_PER_MULTIPLIER_UNIT
    )


class QuotaPeriods(msgspec.Struct, frozen=True):
    """Period starts frozen on the turn at preflight and reused at settlement."""

    daily: date
    monthly: date

    def start_of(self, period: PeriodType) -> date:
        return self.daily if period == "daily" else self.monthly


def _utc_date(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("naive datetime: quota periods are computed in UTC")
    return now.astimezone(UTC).date()


def periods_at(now: datetime) -> QuotaPeriods:
    today = _utc_date(now)
    return QuotaPeriods(daily=today, monthly=today.replace(day=1))


def next_reset(period: PeriodType, now: datetime) -> datetime:
    """Next 00:00 UTC (daily) or 00:00 UTC on the 1st of next month (monthly) (C-16.3)."""
    today = _utc_date(now)
    if period == "daily":
        start = date.fromordinal(today.toordinal() + 1)
    elif today.month == 12:
        start = date(today.year + 1, 1, 1)
    else:
        start = date(today.year, today.month + 1, 1)
    return datetime.combine(start, time(0), tzinfo=UTC)


def buckets_for_tier(tier: Tier) -> tuple[Bucket, ...]:
    """Premium turns debit both buckets; standard turns debit ``total`` only (CI-7.3)."""
    return (BUCKET_TOTAL, BUCKET_PREMIUM) if tier == "premium" else (BUCKET_TOTAL,)


def tier_of_bucket(bucket: Bucket) -> Tier:
    """Which ``UserLimits`` tier limits a bucket: ``total`` ↔ standard, ``tier:premium`` ↔ premium."""
    return "premium" if bucket == BUCKET_PREMIUM else "standard"
