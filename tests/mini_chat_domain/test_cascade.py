"""CI-7.4 tier cascade and CI-7.5 daily tool quotas."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.cascade import (
    check_daily_tool_quotas,
    required_row_keys,
    run_cascade,
    tiers_to_try,
)
from fabrikit.modules.mini_chat.domain.credits import credits_micro
from fabrikit.modules.mini_chat.domain.errors import QuotaExceeded, ServiceUnavailable
from fabrikit.modules.mini_chat.domain.quota_rows import QuotaRowValues
from fabrikit.modules.mini_chat.sdk import KillSwitches, ModelCatalogEntry, TierLimits, UserLimits
from tests.strategies.mini_chat import catalog_entry, catalogs, quota_rows, tier_limits

PREMIUM = catalog_entry("gpt-4.1", "premium", default=True, mi=3_000_000, mo=15_000_000)
PREMIUM_2 = catalog_entry("premium-b", "premium", mi=2_000_000, mo=2_000_000)
STANDARD = catalog_entry("gpt-4.1-mini", "standard", default=True, mi=1_000_000, mo=3_000_000)
STANDARD_2 = catalog_entry("tiny", "standard", mi=1_000_000, mo=3_000_000, max_output_tokens=64)
CATALOG = [PREMIUM, PREMIUM_2, STANDARD, STANDARD_2]
BIG = TierLimits(limit_daily_credits_micro=10**12, limit_monthly_credits_micro=10**12)


def limits(standard: TierLimits = BIG, premium: TierLimits = BIG) -> UserLimits:
    return UserLimits(
        tenant_id=uuid4(), user_id=uuid4(), policy_version=1, standard=standard, premium=premium
    )


def cascade(
    selected: str,
    *,
    catalog: list[ModelCatalogEntry] = CATALOG,
    kill: KillSwitches | None = None,
    lim: UserLimits | None = None,
    rows: dict | None = None,
    est_in: int = 1000,
    max_out: int = 32768,
):
    return run_cascade(
        catalog=catalog,
        selected_model=selected,
        kill_switches=kill or KillSwitches(),
        limits=lim or limits(),
        rows=rows or {},
        estimated_input_tokens=est_in,
        config_max_output_tokens=max_out,
    )


def test_premium_allowed() -> None:
    result = cascade("gpt-4.1")
    assert (result.effective_model, result.effective_tier, result.decision) == ("gpt-4.1", "premium", "allow")
    assert result.downgrade_reason is None
    assert result.downgrade_from is None
    assert result.max_output_tokens_applied == 1024
    assert result.reserve_tokens == 1000 + 1024
    assert result.reserved_credits_micro == credits_micro(1000, 1024, 3_000_000, 15_000_000)
    assert result.buckets == ("total", "tier:premium")


def test_max_output_is_min_of_model_and_config() -> None:
    assert cascade("gpt-4.1", max_out=100).max_output_tokens_applied == 100


def test_premium_exhausted_falls_to_standard_priced_per_candidate() -> None:
    premium_reserve = credits_micro(1000, 1024, 3_000_000, 15_000_000)
    tight = TierLimits(limit_daily_credits_micro=premium_reserve - 1, limit_monthly_credits_micro=10**12)
    result = cascade("gpt-4.1", lim=limits(premium=tight))
    assert result.effective_model == "gpt-4.1-mini"
    assert result.effective_tier == "standard"
    assert result.decision == "downgrade"
    assert result.downgrade_reason == "premium_quota_exhausted"
    assert result.downgrade_from == "gpt-4.1"
    # Priced with the standard candidate's multipliers, not the selected model's (CI-7.4 step 3 fix).
    assert result.reserved_credits_micro == credits_micro(1000, 1024, 1_000_000, 3_000_000)
    assert result.buckets == ("total",)


def test_existing_usage_counts_against_limits() -> None:
    reserve = credits_micro(1000, 1024, 3_000_000, 15_000_000)
    lim = limits(premium=TierLimits(limit_daily_credits_micro=10 * reserve, limit_monthly_credits_micro=0))
    fits = {
        ("tier:premium", "daily"): QuotaRowValues(
            spent_credits_micro=5 * reserve, reserved_credits_micro=4 * reserve
        )
    }
    assert cascade("gpt-4.1", lim=lim, rows=fits).effective_tier == "premium"
    over = {
        ("tier:premium", "daily"): QuotaRowValues(
            spent_credits_micro=5 * reserve, reserved_credits_micro=4 * reserve + 1
        )
    }
    assert cascade("gpt-4.1", lim=lim, rows=over).effective_tier == "standard"


def test_total_bucket_also_limits_premium() -> None:
    reserve = credits_micro(1000, 1024, 3_000_000, 15_000_000)
    lim = limits(
        standard=TierLimits(limit_daily_credits_micro=reserve - 1, limit_monthly_credits_micro=10**12)
    )
    # Premium fails on `total`; the cheaper standard candidate still fits.
    result = cascade("gpt-4.1", lim=lim)
    assert result.effective_tier == "standard"


def test_no_tier_fits_is_429_tokens() -> None:
    lim = limits(standard=TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1))
    with pytest.raises(QuotaExceeded) as info:
        cascade("gpt-4.1", lim=lim)
    assert info.value.quota_scope == "tokens"
    assert info.value.status == 429
    assert info.value.to_problem().to_dict()["quota_scope"] == "tokens"


def test_standard_never_goes_upward() -> None:
    lim = limits(standard=TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=0))
    with pytest.raises(QuotaExceeded):
        cascade("gpt-4.1-mini", lim=lim)


@pytest.mark.parametrize("flag", ["force_standard_tier", "disable_premium_tier"])
def test_kill_switch_reasons(flag: str) -> None:
    result = cascade("gpt-4.1", kill=KillSwitches(**{flag: True}))
    assert result.effective_tier == "standard"
    assert result.decision == "downgrade"
    assert result.downgrade_reason == flag


def test_force_standard_wins_over_disable_premium() -> None:
    kill = KillSwitches(force_standard_tier=True, disable_premium_tier=True)
    assert cascade("gpt-4.1", kill=kill).downgrade_reason == "force_standard_tier"


def test_missing_model_is_model_disabled_from_premium() -> None:
    result = cascade("gone")
    assert result.effective_model == "gpt-4.1"
    assert result.decision == "downgrade"
    assert result.downgrade_reason == "model_disabled"
    assert result.downgrade_from == "gone"


def test_disabled_premium_model_uses_its_tier_default() -> None:
    catalog = [catalog_entry("old-premium", "premium", enabled=False), *CATALOG]
    result = cascade("old-premium", catalog=catalog)
    assert (result.effective_model, result.downgrade_reason) == ("gpt-4.1", "model_disabled")


def test_disabled_standard_model_stays_in_standard() -> None:
    catalog = [catalog_entry("old", "standard", enabled=False), *CATALOG]
    result = cascade("old", catalog=catalog)
    assert (result.effective_model, result.effective_tier, result.downgrade_reason) == (
        "gpt-4.1-mini",
        "standard",
        "model_disabled",
    )


def test_first_reason_is_kept() -> None:
    catalog = [catalog_entry("old-premium", "premium", enabled=False), *CATALOG]
    result = cascade("old-premium", catalog=catalog, kill=KillSwitches(force_standard_tier=True))
    assert result.downgrade_reason == "model_disabled"


def test_candidate_without_default_is_first_enabled() -> None:
    catalog = [catalog_entry("old", "standard", enabled=False), STANDARD_2, catalog_entry("s3", "standard")]
    assert cascade("old", catalog=catalog).effective_model == "tiny"


def test_no_candidate_anywhere_is_503() -> None:
    with pytest.raises(ServiceUnavailable) as info:
        cascade("gpt-4.1-mini", catalog=[catalog_entry("gpt-4.1-mini", "standard", enabled=False), PREMIUM])
    assert info.value.code == "service_unavailable"
    with pytest.raises(ServiceUnavailable):
        cascade("gpt-4.1", catalog=[PREMIUM], kill=KillSwitches(disable_premium_tier=True))


def test_estimate_may_depend_on_candidate() -> None:
    result = run_cascade(
        catalog=CATALOG,
        selected_model="gpt-4.1",
        kill_switches=KillSwitches(force_standard_tier=True),
        limits=limits(),
        rows={},
        estimated_input_tokens=lambda entry: 7 if entry.tier == "standard" else 1_000_000,
        config_max_output_tokens=10,
    )
    assert result.estimated_input_tokens == 7
    assert result.reserve_tokens == 17


def test_tiers_and_rows_to_lock() -> None:
    assert tiers_to_try(CATALOG, "gpt-4.1", KillSwitches()) == ["premium", "standard"]
    assert tiers_to_try(CATALOG, "gpt-4.1", KillSwitches(force_standard_tier=True)) == ["standard"]
    assert tiers_to_try(CATALOG, "gpt-4.1-mini", KillSwitches()) == ["standard"]
    assert tiers_to_try(CATALOG, "unknown", KillSwitches()) == ["premium", "standard"]
    assert required_row_keys(["standard"]) == [("total", "daily"), ("total", "monthly")]
    assert required_row_keys(["premium", "standard"]) == [
        ("tier:premium", "daily"),
        ("tier:premium", "monthly"),
        ("total", "daily"),
        ("total", "monthly"),
    ]


@given(
    catalogs(),
    st.sampled_from(["m0", "m1", "m2", "missing"]),
    st.builds(KillSwitches, disable_premium_tier=st.booleans(), force_standard_tier=st.booleans()),
    tier_limits,
    tier_limits,
    st.dictionaries(
        st.sampled_from(
            [("total", "daily"), ("total", "monthly"), ("tier:premium", "daily"), ("tier:premium", "monthly")]
        ),
        quota_rows,
    ),
    st.integers(0, 100_000),
)
def test_cascade_invariants(catalog, selected, kill, standard, premium, rows, est_in) -> None:  # type: ignore[no-untyped-def]
    lim = limits(standard, premium)
    try:
        result = cascade(selected, catalog=catalog, kill=kill, lim=lim, rows=rows, est_in=est_in)
    except QuotaExceeded:
        return
    except ServiceUnavailable:
        assert not any(e.enabled and e.tier in tiers_to_try(catalog, selected, kill) for e in catalog)
        return
    effective = result.effective
    assert effective.enabled
    assert effective.tier == result.effective_tier
    selected_entry = next((e for e in catalog if e.id == selected), None)
    if selected_entry is not None and selected_entry.tier == "standard":
        assert result.effective_tier == "standard"  # never upward
    if result.effective_tier == "premium":
        assert not kill.force_standard_tier
        assert not kill.disable_premium_tier
    assert (result.decision == "allow") == (effective.id == selected and result.downgrade_reason is None)
    assert result.reserved_credits_micro == credits_micro(
        est_in,
        result.max_output_tokens_applied,
        effective.input_tokens_credit_multiplier_micro,
        effective.output_tokens_credit_multiplier_micro,
    )
    for bucket in result.buckets:
        tier_limit = premium if bucket == "tier:premium" else standard
        for period, limit in (
            ("daily", tier_limit.limit_daily_credits_micro),
            ("monthly", tier_limit.limit_monthly_credits_micro),
        ):
            if limit > 0:
                row = rows.get((bucket, period), QuotaRowValues())
                assert row.used_credits_micro + result.reserved_credits_micro <= limit


def test_daily_tool_quotas_only_for_used_tools() -> None:
    row = QuotaRowValues(web_search_calls=75, code_interpreter_calls=50)
    kwargs = {"web_search_daily_quota": 75, "code_interpreter_daily_quota": 50}
    check_daily_tool_quotas(row, web_search_requested=False, code_interpreter_offered=False, **kwargs)
    with pytest.raises(QuotaExceeded) as web:
        check_daily_tool_quotas(row, web_search_requested=True, code_interpreter_offered=False, **kwargs)
    assert web.value.quota_scope == "web_search"
    with pytest.raises(QuotaExceeded) as ci:
        check_daily_tool_quotas(row, web_search_requested=False, code_interpreter_offered=True, **kwargs)
    assert ci.value.quota_scope == "code_interpreter"
    below = QuotaRowValues(web_search_calls=74, code_interpreter_calls=49)
    check_daily_tool_quotas(below, web_search_requested=True, code_interpreter_offered=True, **kwargs)
