"""Outbox time: the application clock as integer epoch microseconds.

Every timestamp column (``created_at``, ``sequenced_at``, ``locked_until``, ``failed_at``, ``deadline``) is a
BIGINT of microseconds since the Unix epoch (UTC). Integers compare correctly on both engines, need no parsing,
and keep lease arithmetic exact; all processes of a module must have roughly synchronised clocks (leases
tolerate skew up to the lease headroom).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

MICROS = 1_000_000


def now_us() -> int:
    return time.time_ns() // 1000


def seconds_us(seconds: float) -> int:
    return int(seconds * MICROS)


def to_datetime(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / MICROS, tz=UTC)
