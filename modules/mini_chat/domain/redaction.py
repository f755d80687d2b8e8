"""Audit redaction (CI-17.5): the table's patterns in order, then a UTF-8-safe cut to ``field_max_bytes``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import msgspec

TRUNCATED_SUFFIX = "…[TRUNCATED]"
_SECRET_KEYS = r"api_key|x-api-key|client_secret|access_token|refresh_token|password"


def _keep_key(replacement: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m.group("key") + replacement


def _secret_value(match: re.Match[str]) -> str:
    if match.group("dq") is not None:
        value = '"[REDACTED]"'
    elif match.group("sq") is not None:
        value = "'[REDACTED]'"
    else:
        value = "[REDACTED]"
    return match.group("key") + match.group("sep") + value


def _long_token(match: re.Match[str]) -> str:
    return match.group(0)[:16] + "…[TRUNCATED_LONG_TOKEN]"


# (metric label, pattern, replacement) in the order of the CI-17.5 table.
PATTERNS: tuple[tuple[str, re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    ("bearer", re.compile(r"(?i)(?P<key>\bbearer\s+)[A-Za-z0-9._~+/=\-]+"), _keep_key("[REDACTED]")),
    (
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_\-.])[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}(?![A-Za-z0-9_\-.])"
        ),
        "[REDACTED_JWT]",
    ),
    ("openai_key", re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"), "[REDACTED_OPENAI_KEY]"),
    ("aws_access_key_id", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[REDACTED_AWS_ACCESS_KEY_ID]"),
    (
        "azure_key",
        re.compile(r"(?i)(?P<key>(?<![\w\-])(?:api-key|ocp-apim-subscription-key)\s*:\s*)[^\s\"',;]+"),
        _keep_key("[REDACTED_AZURE_KEY]"),
    ),
    (
        "secret_value",
        re.compile(
            rf"(?i)(?P<key>(?<![\w\-])[\"']?(?:{_SECRET_KEYS})[\"']?)(?P<sep>\s*[:=]\s*)"
            r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"',;&}]+))"
        ),
        _secret_value,
    ),
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL
        ),
        "[REDACTED_PRIVATE_KEY]",
    ),
    ("long_token", re.compile(r"[A-Za-z0-9+/=_\-]{201,}"), _long_token),
)


class Redacted(msgspec.Struct, frozen=True):
    text: str
    hits: dict[str, int]  # pattern label → replacements (metric ``audit_redaction_hits``)
    truncated: bool = False


def redact(text: str) -> tuple[str, Counter[str]]:
    hits: Counter[str] = Counter()
    for label, pattern, replacement in PATTERNS:
        text, count = pattern.subn(replacement, text)
        if count:
            hits[label] += count
    return text, hits


def truncate_utf8(text: str, max_bytes: int, suffix: str = TRUNCATED_SUFFIX) -> tuple[str, bool]:
    """Cut so the result, suffix included, is at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    room = max_bytes - len(suffix.encode("utf-8"))
    if room < 0:
        raise ValueError("max_bytes is smaller than the truncation suffix")
    return data[:room].decode("utf-8", errors="ignore") + suffix, True


def redact_field(text: str, field_max_bytes: int) -> Redacted:
    """Redact then cut one free-text audit field."""
    redacted, hits = redact(text)
    cut, truncated = truncate_utf8(redacted, field_max_bytes)
    return Redacted(cut, dict(hits), truncated)
