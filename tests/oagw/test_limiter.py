"""Rate-limit arithmetic with a fake clock (G-15.2–G-15.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.oagw.domain.limiter import (
    RateLimiterRegistry,
    SlidingWindow,
    TokenBucket,
    rate_limit_headers,
    rate_limit_key,
)
from fabrikit.modules.oagw.sdk import Burst, RateLimitConfig, RateLimitExceededError, SustainedRate


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, secs: float) -> None:
        self.now += secs


def bucket(
    rate: float, window: str = "second", capacity: float | None = None, cost: int = 1
) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, window, capacity, cost, clock=clock, wall=clock), clock


def test_bucket_starts_full_then_rejects_with_retry_after() -> None:
    b, clock = bucket(2, "second", capacity=3)
    assert [b.try_acquire().allowed for _ in range(3)] == [True, True, True]
    denied = b.try_acquire()
    assert not denied.allowed
    assert denied.retry_after_secs == 1  # ceil(1 / 2)
    assert (denied.limit, denied.remaining) == (3, 0)
    clock.advance(0.5)
    assert b.try_acquire().allowed


def test_bucket_retry_after_formula_and_minimum() -> None:
    b, _ = bucket(1, "minute", capacity=1, cost=1)
    assert b.try_acquire().allowed
    assert b.try_acquire().retry_after_secs == 60  # (1 - 0) / (1/60)
    b, clock = bucket(10, "second", capacity=10, cost=5)
    b.try_acquire()
    b.try_acquire()
    clock.advance(0.05)  # 0.5 tokens back
    assert b.try_acquire().retry_after_secs == 1  # ceil(4.5 / 10) = 1


def test_bucket_headers_reset_and_remaining() -> None:
    b, clock = bucket(1, "second", capacity=5)
    b.try_acquire()
    d = b.try_acquire()
    assert d.remaining == 3
    assert d.reset_at == int(clock.now) + 2
    clock.advance(10)
    assert b.tokens == 5


def test_bucket_burst_then_recovery() -> None:
    b, clock = bucket(1, "second", capacity=3)
    assert sum(b.try_acquire().allowed for _ in range(5)) == 3
    clock.advance(2)
    assert sum(b.try_acquire().allowed for _ in range(5)) == 2


@given(
    st.lists(st.tuples(st.floats(0, 5), st.integers(1, 3)), max_size=40),
    st.floats(0.5, 20),
    st.integers(3, 30),
)
def test_bucket_never_exceeds_capacity_plus_refill(
    steps: list[tuple[float, int]], rate: float, capacity: int
) -> None:
    b, clock = bucket(rate, "second", capacity=capacity)
    start = clock.now
    taken = 0
    for gap, cost in steps:
        clock.advance(gap)
        d = b.try_acquire(cost)
        if d.allowed:
            taken += cost
        else:
            assert d.retry_after_secs is not None
            assert d.retry_after_secs >= 1
        assert 0 <= d.remaining <= capacity
    assert taken <= capacity + rate * (clock.now - start) + 1e-6


def window(rate: float, name: str = "second") -> tuple[SlidingWindow, FakeClock]:
    clock = FakeClock()
    return SlidingWindow(rate, name, clock=clock, wall=clock), clock


def test_sliding_window_limit_and_expiry() -> None:
    w, clock = window(3, "second")
    assert [w.try_acquire().allowed for _ in range(3)] == [True, True, True]
    clock.advance(0.25)
    denied = w.try_acquire()
    assert not denied.allowed
    assert denied.retry_after_secs == 1
    clock.advance(0.8)  # the first sub-window (t=1000.0) has left the ring
    assert w.try_acquire().allowed


def test_sliding_window_retry_after_waits_for_enough_subwindows() -> None:
    w, clock = window(4, "minute")
    w.try_acquire()
    clock.advance(10)
    w.try_acquire()
    w.try_acquire()
    w.try_acquire()
    clock.advance(5)  # t = +15; oldest unit at slot +0 expires at +60
    d = w.try_acquire()
    assert not d.allowed
    assert d.retry_after_secs == 45
    d2 = w.try_acquire(2)
    assert d2.retry_after_secs == 55  # needs the units of slot +10 too
    assert w.used == 4


@given(st.lists(st.floats(0, 0.5), max_size=60), st.integers(1, 10))
def test_sliding_window_never_admits_more_than_rate_per_window(gaps: list[float], rate: int) -> None:
    w, clock = window(rate, "second")
    admitted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        if w.try_acquire().allowed:
            admitted.append(clock.now)
    for t in admitted:
        assert sum(1 for u in admitted if t - 0.9 - 1e-9 <= u <= t) <= rate


def config(rate: float = 2, scope: str = "tenant", **kw: object) -> RateLimitConfig:
    return RateLimitConfig(sustained=SustainedRate(rate=rate), scope=scope, **kw)  # type: ignore[arg-type]


def test_keys_per_scope() -> None:
    assert (
        rate_limit_key("upstream", "U", config(scope="tenant"), tenant_id="t1")
        == "oagw:ratelimit:upstream:U:tenant:t1:second"
    )
    assert (
        rate_limit_key("route", "R", config(scope="user"), subject_id="s")
        == "oagw:ratelimit:route:R:user:s:second"
    )
    assert (
        rate_limit_key("upstream", "U", config(scope="ip")) == "oagw:ratelimit:upstream:U:ip:unknown:second"
    )
    assert rate_limit_key("upstream", "U", config(scope="ip"), ip="1.2.3.4").endswith(":ip:1.2.3.4:second")
    assert rate_limit_key("route", "R", config(scope="global")) == "oagw:ratelimit:route:R:global:second"
    assert rate_limit_key("route", "R", config(scope="route")) == "oagw:ratelimit:route:R:route:second"


def test_registry_isolates_keys_rebuilds_on_change_and_forgets() -> None:
    clock = FakeClock()
    reg = RateLimiterRegistry(clock=clock, wall=clock)
    cfg = config(rate=1)
    assert reg.check("k:a", cfg).allowed
    assert not reg.check("k:a", cfg).allowed
    assert reg.check("k:b", cfg).allowed
    assert reg.check("k:a", config(rate=2)).allowed  # config change → fresh bucket
    reg.check("oagw:ratelimit:upstream:U:global:second", cfg)
    assert reg.forget("upstream", "U") == 1


def test_chain_upstream_then_route_and_headers_on_429() -> None:
    clock = FakeClock()
    reg = RateLimiterRegistry(clock=clock, wall=clock)
    up_cfg = config(rate=10, burst=Burst(capacity=10))
    route_cfg = config(rate=1)
    decisions = reg.check_chain([("up", up_cfg), ("rt", route_cfg)])
    headers = dict(rate_limit_headers(decisions))
    assert headers == {
        "X-RateLimit-Limit": "1",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(clock.now) + 1),
    }
    with pytest.raises(RateLimitExceededError) as err:
        reg.check_chain([("up", up_cfg), ("rt", route_cfg)])
    problem_headers = err.value.response_headers()
    assert problem_headers["Retry-After"] == "1"
    assert problem_headers["X-RateLimit-Limit"] == "1"
    assert "up" not in err.value.detail
    upstream_bucket = reg.limiter("up", up_cfg)
    assert isinstance(upstream_bucket, TokenBucket)
    assert upstream_bucket.tokens == 8  # the upstream bucket consumed for both calls


def test_response_headers_false_hides_headers_but_429_keeps_retry_after() -> None:
    clock = FakeClock()
    reg = RateLimiterRegistry(clock=clock, wall=clock)
    cfg = config(rate=1, response_headers=False)
    assert rate_limit_headers(reg.check_chain([("k", cfg)])) == []
    with pytest.raises(RateLimitExceededError) as err:
        reg.check_chain([("k", cfg)])
    headers = err.value.response_headers()
    assert headers["Retry-After"] == "1"
    assert "X-RateLimit-Limit" not in headers
