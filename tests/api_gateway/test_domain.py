"""Pure parts of the gateway: prefix normalization (P-6.2), scope globs (P-6.7.1), token bucket (P-6.3 step 8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.api_gateway.domain.limits import InFlight, TokenBucket, rate_limit_headers
from fabrikit.modules.api_gateway.domain.paths import normalize_prefix, strip_prefix
from fabrikit.modules.api_gateway.domain.scopes import compile_rules, match_rule, scopes_satisfy
from tests.strategies.api_gateway import gaps, plain_segments, segments, slashes


@given(st.lists(st.tuples(slashes, segments), max_size=5), st.booleans())
def test_prefix_collapses_slashes_and_is_idempotent(parts: list[tuple[str, str]], trailing: bool) -> None:
    raw = "".join(sep + seg for sep, seg in parts) + ("/" if trailing else "")
    expected = "/" + "/".join(seg for _, seg in parts) if parts else ""
    assert normalize_prefix(raw) == expected
    assert normalize_prefix(normalize_prefix(raw)) == expected
    if expected:
        assert strip_prefix(expected + "/x/y", expected) == "/x/y"
        assert strip_prefix(expected, expected) == "/"
        assert strip_prefix(expected + "x/y", expected) is None


@pytest.mark.parametrize("raw", ["/a/../b", "/./a", "..", "/a b", "/a?b", "/a#b", "/é", "/a%20b"])
def test_bad_prefixes_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="prefix_path"):
        normalize_prefix(raw)


@given(plain_segments, plain_segments, plain_segments)
def test_star_is_exactly_one_segment_and_double_star_any_number(a: str, b: str, c: str) -> None:
    one = compile_rules([(f"/{a}/*", None, ("s",))])
    assert match_rule(one, "GET", f"/{a}/{b}") is not None
    assert match_rule(one, "GET", f"/{a}/{b}/{c}") is None
    assert match_rule(one, "GET", f"/{a.upper()}/{b}") is not None  # case-insensitive
    many = compile_rules([(f"/{a}/**", None, ("s",))])
    for path in (f"/{a}", f"/{a}/{b}", f"/{a}/{b}/{c}"):
        assert match_rule(many, "GET", path) is not None
    q = compile_rules([(f"/{a}/?", "post", ("s",))])
    assert match_rule(q, "POST", f"/{a}/x") is not None
    assert match_rule(q, "GET", f"/{a}/x") is None  # method-specific rule
    assert match_rule(q, "POST", f"/{a}/xy") is None


def test_first_matching_rule_decides() -> None:
    rules = compile_rules([("/a/b", None, ("first",)), ("/a/*", None, ("second",))])
    rule = match_rule(rules, "GET", "/a/b")
    assert rule is not None
    assert rule.required_scopes == ("first",)
    assert scopes_satisfy(("*",), ("x",))
    assert scopes_satisfy(("x", "y"), ("y", "z"))
    assert not scopes_satisfy((), ("x",))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=20), gaps)
def test_token_bucket_never_grants_more_than_burst_plus_refill(
    rps: int, burst: int, waits: list[float]
) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rps, burst, clock=clock)
    granted = 0
    for wait in waits:
        clock.now += wait
        if bucket.try_take():
            granted += 1
        assert granted <= burst + rps * clock.now + 1e-9
        headers = dict(rate_limit_headers(bucket))
        assert headers[b"ratelimit-limit"] == headers[b"x-ratelimit-limit"] == str(burst).encode()
        remaining = int(headers[b"ratelimit-remaining"])
        assert 0 <= remaining <= burst
        reset = int(headers[b"ratelimit-reset"])
        assert (reset == 0) == (remaining >= 1)
        assert reset == bucket.seconds_to_next_token()


def test_bucket_starts_full_and_refills_at_rps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, 3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_to_next_token() == 1
    clock.now = 0.5
    assert bucket.try_take()
    assert not bucket.try_take()


def test_in_flight_limit() -> None:
    slots = InFlight(2)
    assert slots.try_acquire()
    assert slots.try_acquire()
    assert not slots.try_acquire()
    slots.release()
    assert slots.try_acquire()
