"""Stable 64-bit keys for PostgreSQL advisory locks (K-14.6, K-16)."""

from __future__ import annotations

import hashlib


def advisory_key(text: str) -> int:
    """The first 8 bytes of SHA-256(text) as a signed big-endian int64 (``pg_advisory_lock``)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def module_schema(module: str) -> str:
    """The PostgreSQL schema of a module: ``mini-chat`` → ``mini_chat`` (K-14.2)."""
    return module.replace("-", "_")
