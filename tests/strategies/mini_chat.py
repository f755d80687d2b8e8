"""Hypothesis strategies for mini-chat's pure domain: catalogs, quota rows, usage, SSE event sequences."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.credits import MAX_MULTIPLIER, MAX_TOKENS
from fabrikit.modules.mini_chat.domain.provider_usage import ProviderUsage
from fabrikit.modules.mini_chat.domain.quota_rows import QuotaRowValues
from fabrikit.modules.mini_chat.sdk import ModelCatalogEntry, Preference, TierLimits

tokens = st.integers(0, MAX_TOKENS)
multipliers = st.integers(1, MAX_MULTIPLIER)
utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
)


def catalog_entry(
    model_id: str,
    tier: str = "standard",
    *,
    enabled: bool = True,
    default: bool = False,
    sort_order: int | None = None,
    mi: int = 1_000_000,
    mo: int = 3_000_000,
    max_output_tokens: int = 1024,
    context_window: int = 100_000,
    provider_id: str = "mock",
    **extra: object,
) -> ModelCatalogEntry:
    return ModelCatalogEntry(
        id=model_id,
        provider_model_id=f"upstream-{model_id}",
        provider_id=provider_id,
        display_name=model_id,
        tier=tier,  # type: ignore[arg-type]
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        input_tokens_credit_multiplier_micro=mi,
        output_tokens_credit_multiplier_micro=mo,
        enabled=enabled,
        preference=Preference(is_default=default, sort_order=sort_order),
        **extra,  # type: ignore[arg-type]
    )


@st.composite
def catalogs(draw: st.DrawFn, min_size: int = 0, max_size: int = 6) -> list[ModelCatalogEntry]:
    size = draw(st.integers(min_size, max_size))
    entries = []
    defaults: set[str] = set()
    for index in range(size):
        tier = draw(st.sampled_from(["standard", "premium"]))
        default = tier not in defaults and draw(st.booleans())
        if default:
            defaults.add(tier)
        entries.append(
            catalog_entry(
                f"m{index}",
                tier,
                enabled=draw(st.booleans()),
                default=default,
                sort_order=draw(st.none() | st.integers(0, 5)),
                mi=draw(st.integers(1, 20_000_000)),
                mo=draw(st.integers(1, 20_000_000)),
                max_output_tokens=draw(st.integers(1, 40_000)),
            )
        )
    return entries


quota_rows = st.builds(
    QuotaRowValues,
    spent_credits_micro=st.integers(0, 10**9),
    reserved_credits_micro=st.integers(0, 10**9),
    web_search_calls=st.integers(0, 100),
    code_interpreter_calls=st.integers(0, 100),
)
tier_limits = st.builds(
    TierLimits,
    limit_daily_credits_micro=st.integers(-5, 2 * 10**9),
    limit_monthly_credits_micro=st.integers(-5, 2 * 10**9),
)
usages = st.builds(
    ProviderUsage,
    input_tokens=st.integers(0, 200_000),
    output_tokens=st.integers(0, 200_000),
    cache_read_input_tokens=st.integers(0, 1000),
    reasoning_tokens=st.integers(0, 1000),
)

CONTENT = st.sampled_from(["delta", "tool"])


@st.composite
def valid_sse_names(draw: st.DrawFn) -> list[str]:
    """A name sequence generated from the grammar ``stream_started ping* (delta|tool)* citations? (done|error)``."""
    names = ["stream_started"]
    names += ["ping"] * draw(st.integers(0, 3))
    names += draw(st.lists(CONTENT, max_size=6))
    if draw(st.booleans()):
        names.append("citations")
    names.append(draw(st.sampled_from(["done", "error"])))
    return names


any_sse_names = st.lists(
    st.sampled_from(["stream_started", "ping", "delta", "tool", "citations", "done", "error"]), max_size=10
)
