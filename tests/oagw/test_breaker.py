"""Circuit breaker cycle with a fake clock (G-19)."""

from __future__ import annotations

import pytest

from fabrikit.modules.oagw.domain.breaker import BreakerState, CircuitBreaker, is_failure_status
from fabrikit.modules.oagw.sdk import CircuitBreakerOpenError


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_failure_statuses() -> None:
    assert [s for s in (200, 400, 404, 429, 500, 501, 502, 503, 504) if is_failure_status(s)] == [
        500,
        502,
        503,
        504,
    ]


def test_full_cycle() -> None:
    clock = FakeClock()
    cb = CircuitBreaker(failure_threshold=3, open_secs=10, half_open_probes=2, clock=clock)
    for _ in range(2):
        cb.record_failure(cb.admit())
    cb.record_success(cb.admit())  # success resets the consecutive count
    for _ in range(3):
        assert cb.state is BreakerState.CLOSED
        cb.record_failure(cb.admit())
    assert cb.state is BreakerState.OPEN
    assert cb.state.gauge == 2
    clock.now += 4
    with pytest.raises(CircuitBreakerOpenError) as err:
        cb.admit()
    assert err.value.retry_after_secs == 6
    assert err.value.response_headers()["X-Circuit-State"] == "open"
    assert err.value.status == 503
    clock.now += 6
    assert cb.state is BreakerState.HALF_OPEN
    p1, p2 = cb.admit(), cb.admit()
    with pytest.raises(CircuitBreakerOpenError):
        cb.admit()  # only two concurrent probes
    cb.record_success(p1)
    assert cb.state is BreakerState.HALF_OPEN
    cb.record_success(p2)
    assert cb.state is BreakerState.CLOSED
    assert cb.state.gauge == 0


def test_probe_failure_reopens_and_stale_results_ignored() -> None:
    clock = FakeClock()
    cb = CircuitBreaker(failure_threshold=1, open_secs=5, half_open_probes=1, clock=clock)
    slow = cb.admit()
    cb.record_failure(cb.admit())
    assert cb.state is BreakerState.OPEN
    cb.record_success(slow)  # admitted before the transition: ignored
    assert cb.state is BreakerState.OPEN
    clock.now += 5
    probe = cb.admit()
    cb.record_failure(probe)
    assert cb.state is BreakerState.OPEN
    clock.now += 5
    probe = cb.admit()
    cb.release(probe)
    cb.record_success(cb.admit())
    assert cb.state is BreakerState.CLOSED
