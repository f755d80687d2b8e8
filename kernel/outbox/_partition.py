"""Stable partition choice for a key (K-15.2)."""

from __future__ import annotations

import hashlib
import uuid


def partition_for(key: uuid.UUID | str, n: int) -> int:
    """UUID → ``key.int % n``; str → first 8 bytes of SHA-256(UTF-8) as big-endian unsigned ``% n``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"partition count must be a positive integer, got {n!r}")
    if isinstance(key, uuid.UUID):
        return key.int % n
    if isinstance(key, str):
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % n
    raise TypeError(f"partition key must be a UUID or str, got {type(key).__name__}")
