"""The one exception every configuration problem becomes (K-4.6)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

PathPart = str | int


class ConfigError(Exception):
    """Invalid configuration. Holds every problem found, one message per line in ``str()``."""

    code = "invalid_config"

    def __init__(self, messages: str | Iterable[str]) -> None:
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))

    def __str__(self) -> str:
        return "\n".join(self.messages)


def format_path(parts: Sequence[PathPart]) -> str:
    """``("modules", "oagw", "upstreams", 0, "api_key")`` → ``modules.oagw.upstreams[0].api_key``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def join_path(prefix: str, suffix: str) -> str:
    """Join a dotted prefix and a suffix that starts with a key, ``.key`` or ``[i]``."""
    suffix = suffix.lstrip(".") if not prefix else suffix
    if not prefix or not suffix or suffix.startswith("["):
        return prefix + suffix
    return f"{prefix}{suffix}" if suffix.startswith(".") else f"{prefix}.{suffix}"


def suggestion(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The closest candidate per ``difflib`` (K-5.2 wording uses it as ``(did you mean 'x'?)``)."""
    matches = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'modules'?)"`` or ``""``."""
    match = suggestion(name, candidates)
    return f" (did you mean '{match}'?)" if match else ""
