"""UUIDv7 ids (C-1.3) and the two timestamp texts: RFC 3339 for clients (C-1.4), fixed-width for SQLite (CI-2.4)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

_MAX_MS = (1 << 48) - 1
_COUNTER_BITS = 12
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
ONE_MICROSECOND = timedelta(microseconds=1)


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class UuidV7Generator:
    """RFC 9562 UUIDv7 with a 12-bit counter in ``rand_a`` (method 1), monotonic within one process.

    A new millisecond seeds the counter randomly in its lower half, leaving room for >= 2048 ids in that
    millisecond; an exhausted counter or a clock that went backwards borrows the next millisecond, so ids never
    go backwards.
    """

    def __init__(
        self, clock_ms: Callable[[], int] = _wall_clock_ms, randbits: Callable[[int], int] = secrets.randbits
    ) -> None:
        self._clock_ms = clock_ms
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> UUID:
        with self._lock:
            now = self._clock_ms()
            if now > self._last_ms:
                self._last_ms = now
                self._counter = self._randbits(_COUNTER_BITS - 1)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                self._last_ms += 1
                self._counter = self._randbits(_COUNTER_BITS - 1)
            ms, counter = self._last_ms, self._counter
        if not 0 <= ms <= _MAX_MS:
            raise ValueError("timestamp outside the 48-bit UUIDv7 range")
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | self._randbits(62)
        return UUID(int=value)


new_uuid7 = UuidV7Generator()


def uuid7_unix_ms(value: UUID) -> int:
    """The millisecond timestamp embedded in a UUIDv7."""
    if value.version != 7:
        raise ValueError("not a UUIDv7")
    return value.int >> 80


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: timestamps must carry a time zone")
    return value.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """``2026-11-26T10:15:30.123456Z``: UTC, always six fraction digits (C-1.4)."""
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_db_timestamp(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``: fixed width, so text order equals time order (CI-2.4)."""
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_timestamp(text: str) -> datetime:
    """Reads either format back as an aware UTC datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return _as_utc(datetime.fromisoformat(text))


def strictly_after(now: datetime, floor: datetime | None) -> datetime:
    """``max(now, floor + 1 µs)``: keeps per-chat message timestamps strictly increasing (P8, CI-5.2)."""
    now = _as_utc(now)
    if floor is None:
        return now
    return max(now, _as_utc(floor) + ONE_MICROSECOND)
