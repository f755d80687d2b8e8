"""``limit``: an integer ≥ 1, clamped to the resource maximum."""

from __future__ import annotations

import re

from ._errors import InvalidLimit

_DIGITS_RE = re.compile(r"[+-]?\d+")


def parse_limit(raw: str | int | None, default: int = 25, max: int = 1000) -> int:
    """``None`` → ``default``; not an integer or < 1 → ``InvalidLimit`` (422); above ``max`` → ``max``."""
    if raw is None:
        return min(default, max)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidLimit("limit must be an integer")
    if isinstance(raw, str):
        text = raw.strip()
        if not _DIGITS_RE.fullmatch(text):
            raise InvalidLimit(f"limit must be an integer, got {raw[:32]!r}")
        digits = text.lstrip("+-").lstrip("0")
        # Compare lengths first: int() of a huge digit string is slow and capped by Python.
        if text.startswith("-"):
            value = -1 if digits else 0
        else:
            value = max + 1 if len(digits) > 18 else int(digits or "0")
    else:
        value = raw
    if value < 1:
        raise InvalidLimit(f"limit must be at least 1, got {raw if isinstance(raw, int) else text[:32]}")
    return min(value, max)
