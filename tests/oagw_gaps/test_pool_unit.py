"""Round-robin arithmetic of ``EndpointPools`` (G-16.1): fair over live endpoints, all down → 502, reset on update."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel.security import DEFAULT_TENANT_ID
from fabrikit.modules.oagw.domain.pool import EndpointPools
from fabrikit.modules.oagw.domain.validation import build_upstream
from fabrikit.modules.oagw.sdk import HTTP_PROTOCOL_ID, DownstreamError, Endpoint, Server, UpstreamSpec

HOSTS = [f"203.0.113.{i}" for i in range(1, 6)]


def pool_upstream(n: int):  # type: ignore[no-untyped-def]
    endpoints = [Endpoint(host=h) for h in HOSTS[:n]]
    spec = UpstreamSpec(server=Server(endpoints=endpoints), protocol=HTTP_PROTOCOL_ID, alias="pool")
    return build_upstream(spec, tenant_id=DEFAULT_TENANT_ID)


@given(n=st.integers(2, 5), down=st.sets(st.integers(0, 4)), rounds=st.integers(1, 4))
def test_picks_cycle_fairly_over_live_endpoints(n: int, down: set[int], rounds: int) -> None:
    upstream = pool_upstream(n)
    pools = EndpointPools()
    pools.pick(upstream)
    state = pools.active()[0]
    dead = {i for i in down if i < n}
    for i in dead:
        pools.mark(state, upstream.server.endpoints[i], up=False)
    live = [ep.host for i, ep in enumerate(upstream.server.endpoints) if i not in dead]
    if not live:
        with pytest.raises(DownstreamError) as info:
            pools.pick(upstream)
        assert info.value.status == 502
        return
    picks = [pools.pick(upstream).host for _ in range(rounds * len(live))]
    assert sorted(picks) == sorted(live * rounds)


def test_single_endpoint_is_used_directly_and_update_resets() -> None:
    pools = EndpointPools()
    single = pool_upstream(1)
    assert pools.pick(single).host == HOSTS[0]
    assert pools.active() == []  # nothing to health-check
    upstream = pool_upstream(2)
    pools.pick(upstream)
    state = pools.active()[0]
    pools.mark(state, upstream.server.endpoints[0], up=False)
    assert {pools.pick(upstream).host for _ in range(3)} == {HOSTS[1]}
    updated = msgspec.structs.replace(upstream, tags=["v2"])
    assert {pools.pick(updated).host for _ in range(2)} == set(HOSTS[:2])
    pools.mark(state, upstream.server.endpoints[1], up=False)  # a stale probe result is ignored
    assert {pools.pick(updated).host for _ in range(2)} == set(HOSTS[:2])
