"""CI-6 billing derivation table and CI-7.6 settlement math."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.credits import QuotaPeriods, credits_micro
from fabrikit.modules.mini_chat.domain.provider_usage import ProviderUsage
from fabrikit.modules.mini_chat.domain.quota_rows import QuotaRowValues
from fabrikit.modules.mini_chat.domain.settlement import (
    ToolCounts,
    TurnSnapshot,
    apply_reserve,
    apply_row_settlement,
    derive_billing,
    derive_billing_for_code,
    row_settlements,
    settle,
)
from fabrikit.modules.mini_chat.domain.turns import Ending
from tests.strategies.mini_chat import quota_rows, usages

USAGE = ProviderUsage(input_tokens=10, output_tokens=5)
ZERO = ProviderUsage()
PERIODS = QuotaPeriods(daily=date(2026, 1, 31), monthly=date(2026, 1, 1))


def snapshot(**over: object) -> TurnSnapshot:
    values: dict[str, object] = {
        "effective_tier": "premium",
        "periods": PERIODS,
        "reserve_tokens": 2000,
        "max_output_tokens_applied": 1000,
        "reserved_credits_micro": credits_micro(1000, 1000, 3_000_000, 15_000_000),
        "minimal_generation_floor_applied": 50,
        "input_multiplier_micro": 3_000_000,
        "output_multiplier_micro": 15_000_000,
    }
    values.update(over)
    return TurnSnapshot(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ending", "outcome", "method"),
    [
        (Ending(kind="completed", dispatched=True, usage=USAGE), "completed", "actual"),
        # Deliberate: a finished answer without reported usage is billed as estimated, never as zero.
        (Ending(kind="completed", dispatched=True, usage=None), "completed", "estimated"),
        (
            Ending(kind="incomplete", incomplete_reason="max_tokens", dispatched=True),
            "completed",
            "estimated",
        ),
        (
            Ending(kind="incomplete", incomplete_reason="max_tokens", dispatched=True, usage=USAGE),
            "completed",
            "actual",
        ),
        (Ending(kind="cancelled", trigger="client_disconnect", dispatched=False), "aborted", "released"),
        (
            Ending(kind="cancelled", trigger="client_disconnect", dispatched=True, usage=USAGE),
            "aborted",
            "actual",
        ),
        (Ending(kind="cancelled", trigger="stall", dispatched=True, usage=None), "aborted", "estimated"),
        (Ending(kind="cancelled", trigger="shutdown", dispatched=True, usage=ZERO), "aborted", "estimated"),
        (Ending(kind="internal_failure", dispatched=False), "failed", "released"),
        (Ending(kind="internal_failure", dispatched=True, usage=USAGE), "failed", "actual"),
        (
            Ending(
                kind="provider_failed", error_code="rate_limited", dispatched=True, nothing_generated=True
            ),
            "failed",
            "released",
        ),
        (
            Ending(
                kind="provider_failed", error_code="provider_error", dispatched=True, nothing_generated=True
            ),
            "failed",
            "released",
        ),
        (
            Ending(kind="provider_failed", error_code="provider_timeout", dispatched=True),
            "failed",
            "estimated",
        ),
        (
            Ending(kind="provider_failed", error_code="provider_error", dispatched=True, usage=USAGE),
            "failed",
            "actual",
        ),
        (
            Ending(kind="tool_limit", error_code="web_search_calls_exceeded", dispatched=True),
            "failed",
            "estimated",
        ),
        (
            Ending(
                kind="tool_limit", error_code="code_interpreter_calls_exceeded", dispatched=True, usage=USAGE
            ),
            "failed",
            "actual",
        ),
        (Ending(kind="persistence_failed", dispatched=True, usage=USAGE), "failed", "actual"),
        (Ending(kind="persistence_failed", dispatched=True), "failed", "estimated"),
        (Ending(kind="orphan", dispatched=True, usage=USAGE), "aborted", "estimated"),
    ],
)
def test_billing_table(ending: Ending, outcome: str, method: str) -> None:
    billing = derive_billing(ending)
    assert (billing.outcome, billing.method, billing.unknown_error_code) == (outcome, method, False)


def test_unknown_code_is_estimated_and_flagged() -> None:
    billing = derive_billing_for_code("weird", dispatched=True, nothing_generated=False, usage=USAGE)
    assert (billing.outcome, billing.method, billing.unknown_error_code) == ("failed", "estimated", True)
    assert (
        derive_billing_for_code(
            "orphan_timeout", dispatched=True, nothing_generated=False, usage=USAGE
        ).method
        == "estimated"
    )
    assert (
        derive_billing_for_code(
            "internal_error", dispatched=False, nothing_generated=False, usage=None
        ).method
        == "released"
    )
    assert (
        derive_billing_for_code(
            "message_persistence_failed", dispatched=True, nothing_generated=False, usage=USAGE
        ).method
        == "actual"
    )


def test_no_free_cancel_once_dispatched() -> None:
    for usage in (None, ZERO, USAGE):
        assert derive_billing(Ending(kind="cancelled", dispatched=True, usage=usage)).method != "released"


def test_ending_requires_codes() -> None:
    with pytest.raises(ValueError, match="provider failure"):
        Ending(kind="provider_failed", error_code="internal_error")
    with pytest.raises(ValueError, match="tool-limit"):
        Ending(kind="tool_limit", error_code="provider_error")
    with pytest.raises(ValueError, match="reason"):
        Ending(kind="incomplete")


def test_actual_within_tolerance() -> None:
    snap = snapshot()
    usage = ProviderUsage(input_tokens=1200, output_tokens=1000)  # 2200 = 1.10 × 2000 exactly
    result = settle("actual", snap, usage, 1100)
    assert result.committed_credits_micro == credits_micro(1200, 1000, 3_000_000, 15_000_000)
    assert not result.overshoot_capped
    assert (
        result.committed_credits_micro > snap.reserved_credits_micro
    )  # within tolerance bills A even above R


def test_actual_beyond_tolerance_is_capped_at_reserve() -> None:
    snap = snapshot()
    usage = ProviderUsage(input_tokens=1201, output_tokens=1000)
    result = settle("actual", snap, usage, 1100)
    assert result.overshoot_capped
    assert result.committed_credits_micro == snap.reserved_credits_micro
    assert result.actual_credits_micro == credits_micro(1201, 1000, 3_000_000, 15_000_000)


@given(usages, st.integers(1, 50_000), st.integers(1000, 1500))
def test_overshoot_property(usage: ProviderUsage, reserve_tokens: int, tol: int) -> None:
    snap = snapshot(reserve_tokens=reserve_tokens, max_output_tokens_applied=min(reserve_tokens, 100))
    result = settle("actual", snap, usage, tol)
    total = usage.input_tokens + usage.output_tokens
    assert result.overshoot_capped == (total * 1000 > reserve_tokens * tol)
    if result.overshoot_capped:
        assert result.committed_credits_micro == snap.reserved_credits_micro
    else:
        assert result.committed_credits_micro == credits_micro(
            usage.input_tokens, usage.output_tokens, 3_000_000, 15_000_000
        )


def test_estimated_formula() -> None:
    snap = snapshot(reserve_tokens=1500, max_output_tokens_applied=1000, minimal_generation_floor_applied=50)
    result = settle("estimated", snap, USAGE, 1100)
    assert result.committed_credits_micro == credits_micro(500, 50, 3_000_000, 15_000_000)
    # est_in never negative
    odd = snapshot(reserve_tokens=10, max_output_tokens_applied=1000)
    assert settle("estimated", odd, None, 1100).committed_credits_micro == credits_micro(
        0, 50, 3_000_000, 15_000_000
    )


def test_released_is_zero() -> None:
    result = settle("released", snapshot(), USAGE, 1100)
    assert (result.committed_credits_micro, result.overshoot_capped) == (0, False)


def test_row_settlements_premium_touches_four_rows_at_stored_periods() -> None:
    snap = snapshot()
    result = settle("actual", snap, USAGE, 1100)
    updates = row_settlements(
        snap, result, USAGE, ToolCounts(web_search=2, code_interpreter=1, file_search=3), images=2
    )
    keys = [(u.bucket, u.period_type, u.period_start) for u in updates]
    assert keys == [
        ("total", "daily", date(2026, 1, 31)),
        ("total", "monthly", date(2026, 1, 1)),
        ("tier:premium", "daily", date(2026, 1, 31)),
        ("tier:premium", "monthly", date(2026, 1, 1)),
    ]
    for u in updates:
        assert u.release_reserved == snap.reserved_credits_micro
        assert u.add_spent == result.committed_credits_micro
        assert u.add_calls == 1
        telemetry = (
            u.add_input_tokens,
            u.add_output_tokens,
            u.add_web_search_calls,
            u.add_code_interpreter_calls,
            u.add_file_search_calls,
            u.add_image_inputs,
        )
        assert telemetry == ((10, 5, 2, 1, 3, 2) if u.bucket == "total" else (0, 0, 0, 0, 0, 0))


def test_standard_touches_total_only_and_estimated_adds_no_tokens() -> None:
    snap = snapshot(effective_tier="standard")
    result = settle("estimated", snap, USAGE, 1100)
    updates = row_settlements(snap, result, USAGE, ToolCounts(), images=0)
    assert [u.bucket for u in updates] == ["total", "total"]
    assert all(u.add_input_tokens == 0 and u.add_output_tokens == 0 for u in updates)


@given(quota_rows, st.integers(0, 10**9), st.integers(0, 10**9))
def test_reserved_never_below_zero(row: QuotaRowValues, reserve: int, committed: int) -> None:
    snap = snapshot(reserved_credits_micro=reserve)
    result = settle("released", snap, None, 1100)
    update = row_settlements(snap, result, None, ToolCounts(), 0)[0]
    update = type(update)(
        **{**{f: getattr(update, f) for f in update.__struct_fields__}, "add_spent": committed}
    )
    new, clamped = apply_row_settlement(row, update)
    assert new.reserved_credits_micro >= 0
    assert clamped == (row.reserved_credits_micro < reserve)
    assert new.spent_credits_micro == row.spent_credits_micro + committed
    assert new.calls == row.calls + 1


@given(quota_rows, st.integers(0, 10**9))
def test_reserve_then_settle_restores_reserved(row: QuotaRowValues, reserve: int) -> None:
    snap = snapshot(reserved_credits_micro=reserve)
    reserved = apply_reserve(row, reserve)
    update = row_settlements(snap, settle("released", snap, None, 1100), None, ToolCounts(), 0)[0]
    after, clamped = apply_row_settlement(reserved, update)
    assert not clamped
    assert after.reserved_credits_micro == row.reserved_credits_micro
    assert after.spent_credits_micro == row.spent_credits_micro
