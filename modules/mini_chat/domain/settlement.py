"""Billing derivation (CI-6) and settlement math (CI-7.6), integer-only, from the turn's frozen snapshot."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from .credits import PERIOD_TYPES, Bucket, PeriodType, QuotaPeriods, Tier, buckets_for_tier, credits_micro
from .provider_usage import ProviderUsage, has_usage
from .quota_rows import QuotaRowValues
from .turns import INTERNAL_ERROR, MESSAGE_PERSISTENCE_FAILED, PROVIDER_ERROR_CODES, TOOL_LIMIT_CODES, Ending

BillingOutcome = Literal["completed", "failed", "aborted"]
SettlementMethod = Literal["actual", "estimated", "released"]


class Billing(msgspec.Struct, frozen=True, kw_only=True):
    outcome: BillingOutcome
    method: SettlementMethod
    unknown_error_code: bool = False  # log CRITICAL and count ``unknown_error_code``


def _after_forwarding(outcome: BillingOutcome, usage: ProviderUsage | None) -> Billing:
    return Billing(outcome=outcome, method="actual" if has_usage(usage) else "estimated")


def derive_billing(ending: Ending) -> Billing:
    """The CI-6 table.

    Completed (incl. incomplete) settles ``actual`` when the provider reported usage. Without usage fabrikit settles
    ``estimated`` (the same fallback the table gives cancelled and failed turns): billing a finished answer as zero
    would let a provider that omits usage serve free turns. Deliberate; see docs/mini-chat.md.
    """
    kind = ending.kind
    if kind in ("completed", "incomplete"):
        return _after_forwarding("completed", ending.usage)
    if kind == "cancelled":
        if not ending.dispatched:
            return Billing(outcome="aborted", method="released")
        return _after_forwarding("aborted", ending.usage)
    if kind == "orphan":
        return Billing(outcome="aborted", method="estimated")
    if kind == "internal_failure":
        if not ending.dispatched:
            return Billing(outcome="failed", method="released")
        # A crash mid-stream is no free cancel (CI-6.1).
        return _after_forwarding("failed", ending.usage)
    if kind == "provider_failed" and ending.error_code in PROVIDER_ERROR_CODES:
        if not ending.dispatched or ending.nothing_generated:
            return Billing(outcome="failed", method="released")
        return _after_forwarding("failed", ending.usage)
    if kind == "tool_limit" and ending.error_code in TOOL_LIMIT_CODES:
        return _after_forwarding("failed", ending.usage)
    if kind == "persistence_failed":
        return _after_forwarding("failed", ending.usage)
    return Billing(outcome="failed", method="estimated", unknown_error_code=True)


def derive_billing_for_code(
    error_code: str, *, dispatched: bool, nothing_generated: bool, usage: ProviderUsage | None
) -> Billing:
    """CI-6 for a failed turn known only by its stored ``error_code`` (e.g. the persistence retry of CI-5.3)."""
    if error_code in PROVIDER_ERROR_CODES:
        kind = "provider_failed"
    elif error_code in TOOL_LIMIT_CODES:
        kind = "tool_limit"
    elif error_code == MESSAGE_PERSISTENCE_FAILED:
        kind = "persistence_failed"
    elif error_code == INTERNAL_ERROR:
        kind = "internal_failure"
    elif error_code == "orphan_timeout":
        kind = "orphan"
    else:
        return Billing(outcome="failed", method="estimated", unknown_error_code=True)
    return derive_billing(
        Ending(
            kind=kind,  # type: ignore[arg-type]
            error_code=error_code,
            dispatched=dispatched,
            nothing_generated=nothing_generated,
            usage=usage,
        )
    )


class TurnSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The write-once preflight values stored on ``chat_turns`` that settlement reads (never the live catalog)."""

    effective_tier: Tier
    periods: QuotaPeriods
    reserve_tokens: int
    max_output_tokens_applied: int
    reserved_credits_micro: int
    minimal_generation_floor_applied: int
    input_multiplier_micro: int
    output_multiplier_micro: int


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    method: SettlementMethod
    committed_credits_micro: int
    overshoot_capped: bool
    actual_credits_micro: int | None  # A before capping; None unless method is actual


def settle(
    method: SettlementMethod, snapshot: TurnSnapshot, usage: ProviderUsage | None, tolerance_milli: int
) -> Settlement:
    """CI-7.6: actual (capped at R beyond the overshoot tolerance), estimated, or released."""
    if method == "released":
        return Settlement(
            method=method, committed_credits_micro=0, overshoot_capped=False, actual_credits_micro=None
        )
    mi, mo = snapshot.input_multiplier_micro, snapshot.output_multiplier_micro
    if method == "estimated":
        est_in = max(snapshot.reserve_tokens - snapshot.max_output_tokens_applied, 0)
        committed = credits_micro(est_in, snapshot.minimal_generation_floor_applied, mi, mo)
        return Settlement(
            method=method,
            committed_credits_micro=committed,
            overshoot_capped=False,
            actual_credits_micro=None,
        )
    tokens_in = usage.input_tokens if usage else 0
    tokens_out = usage.output_tokens if usage else 0
    actual = credits_micro(tokens_in, tokens_out, mi, mo)
    if (tokens_in + tokens_out) * 1000 > snapshot.reserve_tokens * tolerance_milli:
        return Settlement(
            method=method,
            committed_credits_micro=snapshot.reserved_credits_micro,
            overshoot_capped=True,
            actual_credits_micro=actual,
        )
    return Settlement(
        method=method, committed_credits_micro=actual, overshoot_capped=False, actual_credits_micro=actual
    )


class ToolCounts(msgspec.Struct, frozen=True, kw_only=True):
    web_search: int = 0
    code_interpreter: int = 0
    file_search: int = 0


class RowSettlement(msgspec.Struct, frozen=True, kw_only=True):
    """What to apply to one ``quota_usage`` row at the stored period start."""

    bucket: Bucket
    period_type: PeriodType
    period_start: date
    release_reserved: int
    add_spent: int
    add_calls: int = 1
    add_input_tokens: int = 0
    add_output_tokens: int = 0
    add_web_search_calls: int = 0
    add_code_interpreter_calls: int = 0
    add_file_search_calls: int = 0
    add_image_inputs: int = 0


def row_settlements(
    snapshot: TurnSnapshot,
    settlement: Settlement,
    usage: ProviderUsage | None,
    tools: ToolCounts,
    images: int,
) -> list[RowSettlement]:
    """One update per bucket of the stored tier × {daily, monthly}; telemetry goes to ``total`` rows only."""
    actual = settlement.method == "actual" and usage is not None
    updates: list[RowSettlement] = []
    for bucket in buckets_for_tier(snapshot.effective_tier):
        total = bucket == "total"
        for period in PERIOD_TYPES:
            updates.append(
                RowSettlement(
                    bucket=bucket,
                    period_type=period,
                    period_start=snapshot.periods.start_of(period),
                    release_reserved=snapshot.reserved_credits_micro,
                    add_spent=settlement.committed_credits_micro,
                    add_input_tokens=usage.input_tokens if total and actual and usage else 0,
                    add_output_tokens=usage.output_tokens if total and actual and usage else 0,
                    add_web_search_calls=tools.web_search if total else 0,
                    add_code_interpreter_calls=tools.code_interpreter if total else 0,
                    add_file_search_calls=tools.file_search if total else 0,
                    add_image_inputs=images if total else 0,
                )
            )
    return updates


def apply_row_settlement(row: QuotaRowValues, update: RowSettlement) -> tuple[QuotaRowValues, bool]:
    """The new row values and whether ``reserved`` had to be clamped at 0 (metric ``quota_negative``)."""
    reserved = row.reserved_credits_micro - update.release_reserved
    clamped = reserved < 0
    return (
        msgspec.structs.replace(
            row,
            reserved_credits_micro=max(reserved, 0),
            spent_credits_micro=row.spent_credits_micro + update.add_spent,
            calls=row.calls + update.add_calls,
            input_tokens=row.input_tokens + update.add_input_tokens,
            output_tokens=row.output_tokens + update.add_output_tokens,
            web_search_calls=row.web_search_calls + update.add_web_search_calls,
            code_interpreter_calls=row.code_interpreter_calls + update.add_code_interpreter_calls,
            file_search_calls=row.file_search_calls + update.add_file_search_calls,
            image_inputs=row.image_inputs + update.add_image_inputs,
        ),
        clamped,
    )


def apply_reserve(row: QuotaRowValues, reserve_credits: int) -> QuotaRowValues:
    """P8.8: ``reserved_credits_micro += R`` on every bucket × period row of the effective tier."""
    return msgspec.structs.replace(row, reserved_credits_micro=row.reserved_credits_micro + reserve_credits)
