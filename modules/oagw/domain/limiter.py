"""Rate-limit arithmetic (G-15): token bucket, sliding window, keys and response headers. Clocks are injected:
``clock`` is monotonic seconds (for refills), ``wall`` is epoch seconds (for ``X-RateLimit-Reset``)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Literal

import msgspec

from ..sdk import WINDOW_SECS, RateLimitConfig, RateLimitExceededError

Clock = Callable[[], float]
Level = Literal["upstream", "route"]
_EPS = 1e-9

# Sliding-window rings per window (G-15.3): (number of sub-windows, sub-window seconds).
SLIDING_RINGS: dict[str, tuple[int, float]] = {
    "second": (10, 0.1),
    "minute": (60, 1.0),
    "hour": (60, 60.0),
    "day": (144, 600.0),
}


def _ceil(value: float) -> int:
    return math.ceil(value - _EPS)


def _window_secs(window: str | float) -> float:
    if isinstance(window, str):
        if window not in WINDOW_SECS:
            raise ValueError(f"unknown window {window!r}")
        return float(WINDOW_SECS[window])
    if window <= 0:
        raise ValueError("window must be positive")
    return float(window)


class RateLimitDecision(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    limit: int
    remaining: int
    reset_at: int
    """Epoch second at which the limiter is full again."""
    retry_after_secs: int | None = None
    response_headers: bool = True


class TokenBucket:
    """Starts full, refills continuously at ``rate / window``; a request takes ``cost`` tokens or is rejected with
    ``Retry-After = ceil((cost − tokens) / refill_per_sec)``, at least 1 (G-15.2)."""

    def __init__(
        self,
        rate: float,
        window: str | float = "second",
        capacity: float | None = None,
        cost: int = 1,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.capacity = float(capacity if capacity is not None else rate)
        if self.capacity <= 0:
            raise ValueError("capacity must be positive")
        self.refill_per_sec = rate / _window_secs(window)
        self.cost = cost
        self._clock = clock
        self._wall = wall
        self._tokens = self.capacity
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.refill_per_sec)

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def _decision(self, allowed: bool, retry_after: int | None) -> RateLimitDecision:
        missing = self.capacity - self._tokens
        reset = self._wall() + (missing / self.refill_per_sec if missing > _EPS else 0.0)
        return RateLimitDecision(
            allowed=allowed,
            limit=math.floor(self.capacity + _EPS),
            remaining=max(0, math.floor(self._tokens + _EPS)),
            reset_at=_ceil(reset),
            retry_after_secs=retry_after,
        )

    def try_acquire(self, cost: int | None = None) -> RateLimitDecision:
        need = self.cost if cost is None else cost
        self._refill()
        if self._tokens + _EPS >= need:
            self._tokens = max(0.0, self._tokens - need)
            return self._decision(True, None)
        retry = max(1, _ceil((need - self._tokens) / self.refill_per_sec))
        return self._decision(False, retry)


class SlidingWindow:
    """At most ``rate`` units per window, counted in a ring of sub-windows; burst is ignored (G-15.3)."""

    def __init__(
        self,
        rate: float,
        window: str = "second",
        cost: int = 1,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if window not in SLIDING_RINGS:
            raise ValueError(f"unknown window {window!r}")
        self.rate = float(rate)
        self.slots, self.slot_secs = SLIDING_RINGS[window]
        self.cost = cost
        self._clock = clock
        self._wall = wall
        self._ring: deque[list[float]] = deque()  # [slot index, units], oldest first

    def _index(self, now: float) -> int:
        return math.floor(now / self.slot_secs + _EPS)

    def _expire(self, current: int) -> None:
        while self._ring and self._ring[0][0] <= current - self.slots:
            self._ring.popleft()

    @property
    def used(self) -> float:
        self._expire(self._index(self._clock()))
        return sum(units for _, units in self._ring)

    def _decision(self, now: float, allowed: bool, retry_after: int | None) -> RateLimitDecision:
        used = sum(units for _, units in self._ring)
        full_again = (self._ring[-1][0] + self.slots) * self.slot_secs - now if self._ring else 0.0
        return RateLimitDecision(
            allowed=allowed,
            limit=math.floor(self.rate + _EPS),
            remaining=max(0, math.floor(self.rate - used + _EPS)),
            reset_at=_ceil(self._wall() + max(0.0, full_again)),
            retry_after_secs=retry_after,
        )

    def try_acquire(self, cost: int | None = None) -> RateLimitDecision:
        need = self.cost if cost is None else cost
        now = self._clock()
        current = self._index(now)
        self._expire(current)
        used = sum(units for _, units in self._ring)
        if used + need <= self.rate + _EPS:
            if self._ring and self._ring[-1][0] == current:
                self._ring[-1][1] += need
            else:
                self._ring.append([current, need])
            return self._decision(now, True, None)
        excess = used + need - self.rate
        freed = 0.0
        wait = self.slots * self.slot_secs
        for index, units in self._ring:
            freed += units
            if freed + _EPS >= excess:
                wait = (index + self.slots) * self.slot_secs - now
                break
        return self._decision(now, False, max(1, _ceil(wait)))


Limiter = TokenBucket | SlidingWindow


def build_limiter(
    config: RateLimitConfig, *, clock: Clock = time.monotonic, wall: Clock = time.time
) -> Limiter:
    if config.algorithm == "sliding_window":
        return SlidingWindow(
            config.sustained.rate, config.sustained.window, config.cost, clock=clock, wall=wall
        )
    return TokenBucket(
        config.sustained.rate, config.sustained.window, config.capacity, config.cost, clock=clock, wall=wall
    )


def rate_limit_key(
    level: Level,
    owner_id: str,
    config: RateLimitConfig,
    *,
    tenant_id: object = None,
    subject_id: object = None,
    ip: str | None = None,
) -> str:
    """``oagw:ratelimit:{upstream|route}:{id}:{scope}[:{tenant|subject|ip}]:{window}`` (G-15.4)."""
    scope = config.scope
    parts = ["oagw", "ratelimit", level, owner_id, scope]
    if scope == "tenant":
        parts.append(str(tenant_id))
    elif scope == "user":
        parts.append(str(subject_id))
    elif scope == "ip":
        parts.append(ip or "unknown")
    parts.append(config.sustained.window)
    return ":".join(parts)


def key_prefix(level: Level, owner_id: str) -> str:
    return f"oagw:ratelimit:{level}:{owner_id}:"


class RateLimiterRegistry:
    """Per-process limiters by key (G-6.4); a limiter is rebuilt when its config changes (G-15.4)."""

    def __init__(
        self, *, clock: Clock = time.monotonic, wall: Clock = time.time, max_keys: int = 100_000
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._max_keys = max_keys
        self._limiters: OrderedDict[str, tuple[RateLimitConfig, Limiter]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._limiters)

    def limiter(self, key: str, config: RateLimitConfig) -> Limiter:
        entry = self._limiters.get(key)
        if entry is None or entry[0] != config:
            entry = (config, build_limiter(config, clock=self._clock, wall=self._wall))
            self._limiters[key] = entry
            while len(self._limiters) > self._max_keys:
                self._limiters.popitem(last=False)
        self._limiters.move_to_end(key)
        return entry[1]

    def check(self, key: str, config: RateLimitConfig) -> RateLimitDecision:
        decision = self.limiter(key, config).try_acquire(config.cost)
        return msgspec.structs.replace(decision, response_headers=config.response_headers)

    def check_chain(self, items: Sequence[tuple[str, RateLimitConfig]]) -> list[RateLimitDecision]:
        """G-15.5: upstream limit, then route limit; earlier ones stay consumed when a later one rejects.

        Rejection raises ``RateLimitExceededError`` carrying ``Retry-After`` and the ``X-RateLimit-*`` headers of the
        tighter limiter (when enabled)."""
        decisions: list[RateLimitDecision] = []
        for key, config in items:
            decision = self.check(key, config)
            decisions.append(decision)
            if not decision.allowed:
                raise RateLimitExceededError(
                    decision.retry_after_secs or 1,
                    rate_limit_headers=[h for h in rate_limit_headers(decisions) if h[0] != "Retry-After"],
                )
        return decisions

    def forget(self, level: Level, owner_id: str) -> int:
        """Drop the buckets of a deleted upstream or route (G-3.5)."""
        prefix = key_prefix(level, owner_id)
        doomed = [k for k in self._limiters if k.startswith(prefix)]
        for key in doomed:
            del self._limiters[key]
        return len(doomed)


def tighter(decisions: Sequence[RateLimitDecision]) -> RateLimitDecision | None:
    """The decision to report: a rejection first, then the fewest remaining, then the smallest limit."""
    if not decisions:
        return None
    return min(decisions, key=lambda d: (d.allowed, d.remaining, d.limit))


def rate_limit_headers(decisions: Sequence[RateLimitDecision]) -> list[tuple[str, str]]:
    """G-15.6: ``X-RateLimit-Limit/Remaining/Reset`` of the tighter limiter among those with
    ``response_headers: true``; a rejection always adds ``Retry-After``."""
    headers: list[tuple[str, str]] = []
    shown = tighter([d for d in decisions if d.response_headers])
    if shown is not None:
        headers += [
            ("X-RateLimit-Limit", str(shown.limit)),
            ("X-RateLimit-Remaining", str(shown.remaining)),
            ("X-RateLimit-Reset", str(shown.reset_at)),
        ]
    rejected = [d for d in decisions if not d.allowed]
    if rejected:
        headers.append(("Retry-After", str(max(d.retry_after_secs or 1 for d in rejected))))
    return headers
