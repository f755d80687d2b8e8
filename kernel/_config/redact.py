"""Redaction for ``check --print-config`` (K-4.8) and log lines (K-17.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fabrikit.kernel.security import REDACTED, Secret

# K-4.8's list, plus headers that carry credentials (K-17.2) and key-file fields.
SENSITIVE_KEY_RE = re.compile(
    r"(?i)(password|passwd|secret|token|api_?key|credential|authorization|cookie|private_?key)"
)
_URL_PASSWORD_RE = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]*@")
_QUERY_SECRET_RE = re.compile(
    r"(?P<head>[?&][^=&\s]*(?:password|secret|token|api_?key|credential)[^=&\s]*=)[^&\s#]*", re.IGNORECASE
)
# Case-sensitive on purpose: "a basic idea" is prose, "Basic dXNlcjpw" is a credential.
_AUTH_SCHEME_RE = re.compile(r"\b(?P<head>(?:[Bb]earer|Basic)\s+)[A-Za-z0-9._~+/=\-]{6,}")


_AUTH_SCHEME_SUB = rf"\g<head>{REDACTED}"
_URL_PASSWORD_SUB = rf"\g<head>{REDACTED}@"
_QUERY_SECRET_SUB = rf"\g<head>{REDACTED}"


class _KeyVerdicts(dict[str, bool]):
    """``is_sensitive_key`` per key, remembered: log lines repeat the same few keys, and a dict lookup is far
    cheaper than the regex. Bounded, in case keys are generated."""

    limit = 4096

    def __missing__(self, key: str) -> bool:
        verdict = SENSITIVE_KEY_RE.search(key) is not None
        if len(self) < self.limit:
            self[key] = verdict
        return verdict


# Index with exact ``str`` keys only (a subclass may hash or compare differently); ``is_sensitive_key`` checks.
SENSITIVE_KEYS = _KeyVerdicts()


def is_sensitive_key(key: object) -> bool:
    if type(key) is str:
        return SENSITIVE_KEYS[key]
    return isinstance(key, str) and SENSITIVE_KEY_RE.search(key) is not None


def may_hold_credentials(text: str) -> bool:
    """False when no pattern of ``redact_string`` can match: each needs one of these literals."""
    return "earer" in text or "Basic" in text or "://" in text or "=" in text


def redact_string(text: str) -> str:
    """Mask credentials embedded in text: URL passwords, secret query parameters, ``Bearer …`` tokens."""
    # Each pattern needs a literal its match must contain; the substring tests are far cheaper than the
    # regexes and skip them for almost every log value (ids, paths, user agents).
    if "earer" in text or "Basic" in text:  # [Bb]earer | Basic (see may_hold_credentials)
        text = _AUTH_SCHEME_RE.sub(_AUTH_SCHEME_SUB, text)
    if "://" in text:
        text = _URL_PASSWORD_RE.sub(_URL_PASSWORD_SUB, text)
    if "=" in text:
        text = _QUERY_SECRET_RE.sub(_QUERY_SECRET_SUB, text)
    return text


def _hides(value: Any) -> bool:
    # Counts and switches under a matching key (`max_tokens: 4096`, `token_budget: 1000`) are not secrets.
    return not (value is None or isinstance(value, bool | int | float))


def redact(value: Any) -> Any:
    """A copy of a config tree (or any value) fit to print: ``Secret``s and values under sensitive keys become
    ``[REDACTED]``, and credentials embedded in strings are masked."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, str):
        return redact_string(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive_key(key) and _hides(item) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if len(value) == 2 and is_sensitive_key(value[0]) and _hides(value[1]):
            # A (name, value) header pair such as ("Authorization", "Bearer …").
            return [value[0], REDACTED] if isinstance(value, list) else (value[0], REDACTED)
        items = [redact(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, bytes):
        return redact_string(value.decode("utf-8", "replace"))
    return value
