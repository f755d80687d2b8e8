"""Tier cascade with per-candidate pricing (CI-7.4) and daily tool quotas (CI-7.5), over locked row values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import msgspec

from ..sdk import KillSwitches, ModelCatalogEntry, TierLimits, UserLimits
from .credits import (
    BUCKET_PREMIUM,
    BUCKET_TOTAL,
    PERIOD_TYPES,
    Bucket,
    Tier,
    buckets_for_tier,
    credits_micro,
)
from .errors import QuotaExceeded, ServiceUnavailable
from .quota_rows import QuotaRowValues, RowKey, row_of

DowngradeReason = Literal[
    "premium_quota_exhausted", "force_standard_tier", "disable_premium_tier", "model_disabled"
]
QuotaDecisionKind = Literal["allow", "downgrade"]


class CascadeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The preflight decision; every field is frozen on the turn (CI-2 ``chat_turns`` snapshot)."""

    selected_model: str
    effective: ModelCatalogEntry
    effective_tier: Tier
    decision: QuotaDecisionKind
    downgrade_reason: DowngradeReason | None
    estimated_input_tokens: int
    max_output_tokens_applied: int
    reserve_tokens: int
    reserved_credits_micro: int
    buckets: tuple[Bucket, ...]

    @property
    def effective_model(self) -> str:
        return self.effective.id

    @property
    def downgrade_from(self) -> str | None:
        return self.selected_model if self.decision == "downgrade" else None


def limit_for(limits: UserLimits, bucket: Bucket, period: str) -> int:
    tier_limits: TierLimits = limits.premium if bucket == BUCKET_PREMIUM else limits.standard
    return (
        tier_limits.limit_daily_credits_micro
        if period == "daily"
        else tier_limits.limit_monthly_credits_micro
    )


def _find(catalog: Sequence[ModelCatalogEntry], model_id: str) -> ModelCatalogEntry | None:
    return next((entry for entry in catalog if entry.id == model_id), None)


def _tier_order(selected: ModelCatalogEntry | None) -> tuple[list[Tier], DowngradeReason | None]:
    if selected is None:
        return ["premium", "standard"], "model_disabled"
    tiers: list[Tier] = ["premium", "standard"] if selected.tier == "premium" else ["standard"]
    return tiers, (None if selected.enabled else "model_disabled")


def candidate_for_tier(
    catalog: Sequence[ModelCatalogEntry], tier: Tier, selected: ModelCatalogEntry | None
) -> ModelCatalogEntry | None:
    """The selected model if enabled in this tier, else the tier's enabled default, else its first enabled entry."""
    if selected is not None and selected.enabled and selected.tier == tier:
        return selected
    enabled = [entry for entry in catalog if entry.enabled and entry.tier == tier]
    return next((entry for entry in enabled if entry.is_default), enabled[0] if enabled else None)


def tiers_to_try(catalog: Sequence[ModelCatalogEntry], selected_model: str, kill: KillSwitches) -> list[Tier]:
    """Tiers the cascade may visit; the preflight ensures and locks ``tier:premium`` rows only if premium is here."""
    tiers, _ = _tier_order(_find(catalog, selected_model))
    if kill.force_standard_tier or kill.disable_premium_tier:
        tiers = [tier for tier in tiers if tier != "premium"]
    return tiers


def required_row_keys(tiers: Sequence[Tier]) -> list[RowKey]:
    """Rows to ensure and lock, in the fixed order (bucket, period_type) (CI-3 P8.1)."""
    buckets = sorted({bucket for tier in tiers for bucket in buckets_for_tier(tier)})
    return [(bucket, period) for bucket in buckets for period in PERIOD_TYPES]


def tier_fits(
    tier: Tier, reserve_credits: int, rows: Mapping[RowKey, QuotaRowValues], limits: UserLimits
) -> bool:
    """``spent + reserved + R ≤ limit`` for every required bucket and enforced period (limit ≤ 0 is not enforced)."""
    for bucket in buckets_for_tier(tier):
        for period in PERIOD_TYPES:
            limit = limit_for(limits, bucket, period)
            if limit > 0 and row_of(rows, bucket, period).used_credits_micro + reserve_credits > limit:
                return False
    return True


def run_cascade(
    *,
    catalog: Sequence[ModelCatalogEntry],
    selected_model: str,
    kill_switches: KillSwitches,
    limits: UserLimits,
    rows: Mapping[RowKey, QuotaRowValues],
    estimated_input_tokens: int | Callable[[ModelCatalogEntry], int],
    config_max_output_tokens: int,
) -> CascadeResult:
    """Pick the effective model and its reserve, never upward; 429 ``tokens`` or 503 when nothing can take it.

    ``catalog`` is the effective catalog (unconfigured providers already disabled). ``estimated_input_tokens`` may
    depend on the candidate (its offered tools change the surcharges), so it may be a function of it.
    """
    selected = _find(catalog, selected_model)
    tiers, first_reason = _tier_order(selected)
    reasons: list[DowngradeReason] = [first_reason] if first_reason else []
    saw_candidate = False
    for tier in tiers:
        if tier == "premium" and kill_switches.force_standard_tier:
            reasons.append("force_standard_tier")
            continue
        if tier == "premium" and kill_switches.disable_premium_tier:
            reasons.append("disable_premium_tier")
            continue
        candidate = candidate_for_tier(catalog, tier, selected)
        if candidate is None:
            continue
        saw_candidate = True
        est_in = (
            estimated_input_tokens(candidate) if callable(estimated_input_tokens) else estimated_input_tokens
        )
        max_out = min(candidate.max_output_tokens, config_max_output_tokens)
        reserve = credits_micro(
            est_in,
            max_out,
            candidate.input_tokens_credit_multiplier_micro,
            candidate.output_tokens_credit_multiplier_micro,
        )
        if not tier_fits(tier, reserve, rows, limits):
            if tier == "premium":
                reasons.append("premium_quota_exhausted")
            continue
        downgraded = candidate.id != selected_model or bool(reasons)
        return CascadeResult(
            selected_model=selected_model,
            effective=candidate,
            effective_tier=tier,
            decision="downgrade" if downgraded else "allow",
            downgrade_reason=reasons[0] if downgraded and reasons else None,
            estimated_input_tokens=est_in,
            max_output_tokens_applied=max_out,
            reserve_tokens=est_in + max_out,
            reserved_credits_micro=reserve,
            buckets=buckets_for_tier(tier),
        )
    if saw_candidate:
        raise QuotaExceeded("No quota left for this request.", quota_scope="tokens")
    raise ServiceUnavailable("No eligible model is available.")


def check_daily_tool_quotas(
    total_daily: QuotaRowValues,
    *,
    web_search_requested: bool,
    code_interpreter_offered: bool,
    web_search_daily_quota: int,
    code_interpreter_daily_quota: int,
) -> None:
    """CI-7.5: only the tools this turn uses are checked, on the ``total`` daily row."""
    if web_search_requested and total_daily.web_search_calls >= web_search_daily_quota:
        raise QuotaExceeded("The daily web search quota is used up.", quota_scope="web_search")
    if code_interpreter_offered and total_daily.code_interpreter_calls >= code_interpreter_daily_quota:
        raise QuotaExceeded("The daily code interpreter quota is used up.", quota_scope="code_interpreter")


__all__ = [
    "BUCKET_PREMIUM",
    "BUCKET_TOTAL",
    "CascadeResult",
    "DowngradeReason",
    "QuotaDecisionKind",
    "candidate_for_tier",
    "check_daily_tool_quotas",
    "limit_for",
    "required_row_keys",
    "run_cascade",
    "tier_fits",
    "tiers_to_try",
]
