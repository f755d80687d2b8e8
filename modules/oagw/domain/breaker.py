"""Circuit breaker state machine (G-19), one per effective upstream, with an injectable monotonic clock.

CLOSED → OPEN after ``failure_threshold`` consecutive failures. OPEN refuses (503 ``circuit_breaker.open``) until
``open_secs`` pass; then HALF_OPEN admits up to ``half_open_probes`` concurrent probes: that many successes close
the breaker, any failure reopens it. Results of calls admitted before a transition are ignored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum

import msgspec

from ..sdk import CircuitBreakerOpenError

Clock = Callable[[], float]
FAILURE_STATUSES = frozenset({500, 502, 503, 504})


class BreakerState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"

    @property
    def gauge(self) -> int:
        """``oagw_circuit_breaker_state`` value: 0 closed, 1 half-open, 2 open (G-20.2)."""
        return {"closed": 0, "half_open": 1, "open": 2}[self.value]


class BreakerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enabled: bool = False
    failure_threshold: int = 5
    open_secs: float = 30
    half_open_probes: int = 3


def is_failure_status(status: int) -> bool:
    """Upstream 500/502/503/504 count as failures; 4xx (429 included) never do (G-19.1)."""
    return status in FAILURE_STATUSES


class Ticket(msgspec.Struct, frozen=True):
    generation: int
    probe: bool


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        open_secs: float = 30,
        half_open_probes: int = 3,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or half_open_probes < 1 or open_secs <= 0:
            raise ValueError("failure_threshold and half_open_probes must be ≥ 1 and open_secs > 0")
        self.failure_threshold = failure_threshold
        self.open_secs = open_secs
        self.half_open_probes = half_open_probes
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0

    @classmethod
    def from_config(cls, config: BreakerConfig, *, clock: Clock = time.monotonic) -> CircuitBreaker:
        return cls(config.failure_threshold, config.open_secs, config.half_open_probes, clock=clock)

    def _move(self, state: BreakerState) -> None:
        self._state = state
        self._generation += 1
        self._failures = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
        if state is BreakerState.OPEN:
            self._opened_at = self._clock()

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.open_secs:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def retry_after_secs(self) -> int:
        remaining = self.open_secs - (self._clock() - self._opened_at)
        return max(1, math.ceil(remaining))

    def admit(self) -> Ticket:
        """Let a call through or raise ``CircuitBreakerOpenError`` (with ``Retry-After``)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Ticket(self._generation, probe=False)
        if state is BreakerState.HALF_OPEN:
            if self._probes_in_flight + self._probe_successes < self.half_open_probes:
                self._probes_in_flight += 1
                return Ticket(self._generation, probe=True)
            raise CircuitBreakerOpenError(1)
        raise CircuitBreakerOpenError(self.retry_after_secs())

    def record_success(self, ticket: Ticket) -> None:
        if ticket.generation != self._generation:
            return
        if ticket.probe:
            self._probes_in_flight -= 1
            self._probe_successes += 1
            if self._probe_successes >= self.half_open_probes:
                self._move(BreakerState.CLOSED)
        else:
            self._failures = 0

    def record_failure(self, ticket: Ticket) -> None:
        if ticket.generation != self._generation:
            return
        if ticket.probe:
            self._move(BreakerState.OPEN)
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._move(BreakerState.OPEN)

    def release(self, ticket: Ticket) -> None:
        """A call that ended with neither outcome (cancelled, 4xx on a probe counts as success instead)."""
        if ticket.generation == self._generation and ticket.probe:
            self._probes_in_flight -= 1
