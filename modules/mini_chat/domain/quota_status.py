"""Quota status (C-16.2–C-16.4); the same computation feeds ``done.quota_warnings`` (C-16.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import msgspec

from ..sdk import UserLimits
from .cascade import limit_for
from .credits import BUCKET_PREMIUM, BUCKET_TOTAL, PERIOD_TYPES, Bucket, PeriodType, Tier, next_reset
from .ids import format_rfc3339
from .quota_rows import QuotaRowValues, RowKey, row_of

StatusTier = Literal["premium", "total"]
_TIERS: tuple[tuple[StatusTier, Bucket], ...] = (("premium", BUCKET_PREMIUM), ("total", BUCKET_TOTAL))


class PeriodStatus(msgspec.Struct, frozen=True, kw_only=True):
    period: PeriodType
    limit_credits_micro: int
    used_credits_micro: int
    remaining_credits_micro: int
    remaining_percentage: int
    next_reset: str
    warning: bool
    exhausted: bool


class TierStatus(msgspec.Struct, frozen=True, kw_only=True):
    tier: StatusTier
    periods: tuple[PeriodStatus, ...]


class QuotaStatus(msgspec.Struct, frozen=True, kw_only=True):
    tiers: tuple[TierStatus, ...]
    warning_threshold_pct: int


class QuotaWarning(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One ``done.quota_warnings`` item; ``next_reset`` only when warning or exhausted."""

    tier: StatusTier
    period: PeriodType
    remaining_percentage: int
    warning: bool
    exhausted: bool
    next_reset: str | None = None


def period_status(
    period: PeriodType, limit: int, row: QuotaRowValues, now: datetime, warning_threshold_pct: int
) -> PeriodStatus:
    """C-16.2 for one enforced period (``limit > 0``); integers only."""
    if limit <= 0:
        raise ValueError("a limit <= 0 is not enforced and has no status")
    used = row.used_credits_micro
    remaining = max(limit - used, 0)
    percentage = remaining * 100 // limit
    return PeriodStatus(
        period=period,
        limit_credits_micro=limit,
        used_credits_micro=used,
        remaining_credits_micro=remaining,
        remaining_percentage=percentage,
        next_reset=format_rfc3339(next_reset(period, now)),
        warning=percentage <= 100 - warning_threshold_pct,
        exhausted=percentage == 0,
    )


def quota_status(
    *,
    limits: UserLimits,
    rows: Mapping[RowKey, QuotaRowValues],
    now: datetime,
    warning_threshold_pct: int,
) -> QuotaStatus:
    """``rows`` are the current periods' rows (missing = zero). Unenforced periods and empty tiers are omitted."""
    tiers: list[TierStatus] = []
    for tier, bucket in _TIERS:
        periods = tuple(
            period_status(period, limit, row_of(rows, bucket, period), now, warning_threshold_pct)
            for period in PERIOD_TYPES
            if (limit := limit_for(limits, bucket, period)) > 0
        )
        if periods:
            tiers.append(TierStatus(tier=tier, periods=periods))
    return QuotaStatus(tiers=tuple(tiers), warning_threshold_pct=warning_threshold_pct)


def quota_warnings(status: QuotaStatus, effective_tier: Tier) -> list[QuotaWarning]:
    """The buckets the turn touched: ``total`` always, ``premium`` for premium turns; same order as the status."""
    touched: Sequence[StatusTier] = ("premium", "total") if effective_tier == "premium" else ("total",)
    return [
        QuotaWarning(
            tier=tier.tier,
            period=p.period,
            remaining_percentage=p.remaining_percentage,
            warning=p.warning,
            exhausted=p.exhausted,
            next_reset=p.next_reset if (p.warning or p.exhausted) else None,
        )
        for tier in status.tiers
        if tier.tier in touched
        for p in tier.periods
    ]
