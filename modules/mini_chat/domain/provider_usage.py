"""Token usage as reported by a provider (CI-13.2)."""

from __future__ import annotations

import msgspec

from ..sdk import UsageTokens


class ProviderUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Cache and reasoning counts are subsets of input/output, never added to the totals."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def has_usage(self) -> bool:
        return self.input_tokens > 0 or self.output_tokens > 0


def has_usage(usage: ProviderUsage | None) -> bool:
    """CI-6 ``has_usage``: a usage object with input > 0 or output > 0."""
    return usage is not None and usage.has_usage


def usage_tokens(usage: ProviderUsage | None) -> UsageTokens | None:
    """The UsageEvent's ``usage`` (C-19): the provider's counts, field for field."""
    return UsageTokens(**msgspec.structs.asdict(usage)) if usage is not None else None
