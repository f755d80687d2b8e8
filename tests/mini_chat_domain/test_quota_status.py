"""C-16.2–C-16.5 quota status and done.quota_warnings (T13)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.quota_rows import QuotaRowValues
from fabrikit.modules.mini_chat.domain.quota_status import period_status, quota_status, quota_warnings
from fabrikit.modules.mini_chat.sdk import TierLimits, UserLimits
from tests.strategies.mini_chat import quota_rows, tier_limits, utc_datetimes

NOW = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def limits(standard: TierLimits, premium: TierLimits) -> UserLimits:
    return UserLimits(
        tenant_id=uuid4(), user_id=uuid4(), policy_version=1, standard=standard, premium=premium
    )


DEFAULT = limits(
    TierLimits(limit_daily_credits_micro=100_000_000, limit_monthly_credits_micro=1_000_000_000),
    TierLimits(limit_daily_credits_micro=50_000_000, limit_monthly_credits_micro=500_000_000),
)


def test_shape_and_order() -> None:
    status = quota_status(limits=DEFAULT, rows={}, now=NOW, warning_threshold_pct=80)
    assert [t.tier for t in status.tiers] == ["premium", "total"]
    assert [[p.period for p in t.periods] for t in status.tiers] == [
        ["daily", "monthly"],
        ["daily", "monthly"],
    ]
    premium_daily = status.tiers[0].periods[0]
    assert premium_daily.limit_credits_micro == 50_000_000
    assert premium_daily.remaining_percentage == 100
    assert not premium_daily.warning
    assert not premium_daily.exhausted
    assert premium_daily.next_reset == "2027-01-01T00:00:00.000000Z"
    assert status.tiers[0].periods[1].next_reset == "2027-01-01T00:00:00.000000Z"
    assert status.warning_threshold_pct == 80


def test_used_is_spent_plus_reserved_and_floor_percentage() -> None:
    rows = {
        ("total", "daily"): QuotaRowValues(spent_credits_micro=60_000_000, reserved_credits_micro=20_000_001)
    }
    period = quota_status(limits=DEFAULT, rows=rows, now=NOW, warning_threshold_pct=80).tiers[1].periods[0]
    assert period.used_credits_micro == 80_000_001
    assert period.remaining_credits_micro == 19_999_999
    assert period.remaining_percentage == 19
    assert period.warning
    assert not period.exhausted


def test_warning_at_threshold_boundary() -> None:
    at = period_status("daily", 100, QuotaRowValues(spent_credits_micro=80), NOW, 80)
    assert at.remaining_percentage == 20
    assert at.warning
    above = period_status("daily", 100, QuotaRowValues(spent_credits_micro=79), NOW, 80)
    assert above.remaining_percentage == 21
    assert not above.warning


def test_exhausted_at_zero_and_overuse_clamped() -> None:
    p = period_status("monthly", 100, QuotaRowValues(spent_credits_micro=150), NOW, 80)
    assert (p.remaining_credits_micro, p.remaining_percentage, p.exhausted, p.warning) == (0, 0, True, True)
    almost = period_status("monthly", 1000, QuotaRowValues(spent_credits_micro=991), NOW, 80)
    assert almost.remaining_percentage == 0
    assert almost.exhausted


def test_unenforced_limits_are_omitted() -> None:
    lim = limits(
        TierLimits(limit_daily_credits_micro=0, limit_monthly_credits_micro=10),
        TierLimits(limit_daily_credits_micro=-1, limit_monthly_credits_micro=0),
    )
    status = quota_status(limits=lim, rows={}, now=NOW, warning_threshold_pct=80)
    assert [t.tier for t in status.tiers] == ["total"]
    assert [p.period for p in status.tiers[0].periods] == ["monthly"]


@given(
    tier_limits,
    tier_limits,
    st.dictionaries(
        st.sampled_from(
            [("total", "daily"), ("total", "monthly"), ("tier:premium", "daily"), ("tier:premium", "monthly")]
        ),
        quota_rows,
    ),
    utc_datetimes,
    st.integers(1, 99),
)
def test_status_properties(standard, premium, rows, now, threshold) -> None:  # type: ignore[no-untyped-def]
    status = quota_status(
        limits=limits(standard, premium), rows=rows, now=now, warning_threshold_pct=threshold
    )
    for tier in status.tiers:
        assert tier.periods
        for p in tier.periods:
            assert p.limit_credits_micro > 0
            assert 0 <= p.remaining_percentage <= 100
            assert p.remaining_credits_micro == max(p.limit_credits_micro - p.used_credits_micro, 0)
            assert p.warning == (p.remaining_percentage <= 100 - threshold)
            assert p.exhausted == (p.remaining_percentage == 0)
            assert p.exhausted <= p.warning
            assert p.next_reset.endswith("T00:00:00.000000Z")
    for w in quota_warnings(status, "premium"):
        assert (w.next_reset is not None) == (w.warning or w.exhausted)


def test_quota_warnings_equal_status_for_touched_buckets() -> None:
    rows = {("tier:premium", "daily"): QuotaRowValues(spent_credits_micro=49_000_000)}
    status = quota_status(limits=DEFAULT, rows=rows, now=NOW, warning_threshold_pct=80)
    premium = quota_warnings(status, "premium")
    assert [(w.tier, w.period) for w in premium] == [
        ("premium", "daily"),
        ("premium", "monthly"),
        ("total", "daily"),
        ("total", "monthly"),
    ]
    assert premium[0].remaining_percentage == status.tiers[0].periods[0].remaining_percentage == 2
    assert premium[0].warning
    assert premium[0].next_reset == "2027-01-01T00:00:00.000000Z"
    assert premium[1].next_reset is None
    assert [(w.tier, w.period) for w in quota_warnings(status, "standard")] == [
        ("total", "daily"),
        ("total", "monthly"),
    ]
