"""Provider-text sanitization for SSE ``error.message``, tool details and ``error_detail`` (C-9.8, CI-17.3)."""

from __future__ import annotations

import re

_CREDENTIALS = (
    re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"),
)
_URL = re.compile(r"(?i)\b(?:https?|wss?|ftp)://[^\s\"'<>]+")
# An id body must look generated (a digit, or >= 8 chars) so ordinary words like "file-search" survive.
_ID_BODY = r"(?:(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]+|[A-Za-z0-9_\-]{8,})"
_PROVIDER_ID = re.compile(rf"\b(?:resp_|chatcmpl-|cmpl-|msg_|file-|vs_){_ID_BODY}")


def _credential(match: re.Match[str]) -> str:
    return f"{match.group(1)} [credential]" if match.lastindex else "[credential]"


def sanitize_provider_text(text: str) -> str:
    """Credentials → ``[credential]``, URLs → ``[url]``, provider object ids → ``[provider_id]``."""
    for pattern in _CREDENTIALS:
        text = pattern.sub(_credential, text)
    text = _URL.sub("[url]", text)
    return _PROVIDER_ID.sub("[provider_id]", text)
