"""prefix_path normalization (P-6.2)."""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"^[A-Za-z0-9/_\-.]*$")


def normalize_prefix(raw: str) -> str:
    """Collapses ``//``, drops the trailing ``/``, adds the leading one; '' stays ''. Raises ValueError."""
    if not _ALLOWED.match(raw):
        raise ValueError(f"prefix_path '{raw}' may only contain [A-Za-z0-9/_-.]")
    segments = [s for s in raw.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise ValueError(f"prefix_path '{raw}' must not contain '.' or '..' segments")
    return "/" + "/".join(segments) if segments else ""


def strip_prefix(path: str, prefix: str) -> str | None:
    """The path below ``prefix``, or None when it is outside."""
    if not prefix:
        return path
    if path == prefix:
        return "/"
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return None
