"""Per-operation token bucket and in-flight limit (P-6.3 step 8). Pure, with an injectable clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rps: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)
    limit_header: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = self.clock()
        self.limit_header = str(self.burst).encode()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rps)
        self.updated = now

    def try_take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    @property
    def remaining(self) -> int:
        self._refill()
        return int(self.tokens)

    def seconds_to_next_token(self) -> int:
        """Whole seconds until one more token (RateLimit-Reset / Retry-After), at least 1 when empty."""
        self._refill()
        if self.tokens >= 1.0:
            return 0
        return max(1, math.ceil((1.0 - self.tokens) / self.rps))


@dataclass
class InFlight:
    limit: int
    current: int = 0

    def try_acquire(self) -> bool:
        if self.current >= self.limit:
            return False
        self.current += 1
        return True

    def release(self) -> None:
        self.current = max(0, self.current - 1)


def rate_limit_headers(bucket: TokenBucket, *, refill: bool = True) -> list[tuple[bytes, bytes]]:
    """RateLimit-* and X-RateLimit-* (P-6.3.2) from one look at the bucket (this runs for every request);
    ``refill=False`` right after ``try_take``, which refilled it."""
    if refill:
        bucket._refill()
    tokens = bucket.tokens
    remaining = b"%d" % tokens
    reset = b"0" if tokens >= 1.0 else str(max(1, math.ceil((1.0 - tokens) / bucket.rps))).encode()
    limit = bucket.limit_header
    return [
        (b"ratelimit-limit", limit),
        (b"ratelimit-remaining", remaining),
        (b"ratelimit-reset", reset),
        (b"x-ratelimit-limit", limit),
        (b"x-ratelimit-remaining", remaining),
    ]
