"""Endpoint pools (G-16.1): round-robin over the endpoints the health check has not marked down.

Pure state; the TCP probing lives in ``infra/health.py``. A pool's state (turn and down marks) is reset when its
upstream changes, so an update starts from a clean slate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..sdk import DownstreamError, Endpoint, Upstream
from .endpoints import normalize_host

Clock = Callable[[], float]
EndpointKey = tuple[str, str, int]
# A pool no request has used for this long is no longer probed.
IDLE_POOL_SECS = 600.0


def endpoint_key(endpoint: Endpoint) -> EndpointKey:
    return (endpoint.scheme.lower(), normalize_host(endpoint.host), endpoint.port)


class PoolState:
    def __init__(self, upstream: Upstream, now: float) -> None:
        self.upstream = upstream
        self.turn = 0
        self.down: set[EndpointKey] = set()
        self.last_used = now

    @property
    def endpoints(self) -> Sequence[Endpoint]:
        return self.upstream.server.endpoints


class EndpointPools:
    """One ``PoolState`` per multi-endpoint upstream; what the health check probes and round-robin reads."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._pools: dict[str, PoolState] = {}

    def pick(self, upstream: Upstream) -> Endpoint:
        """The next live endpoint; a single endpoint is used directly; all down → 502 ``downstream.error``."""
        endpoints = upstream.server.endpoints
        if len(endpoints) == 1:
            return endpoints[0]
        now = self._clock()
        state = self._pools.get(upstream.id)
        if state is None or state.upstream != upstream:
            state = self._pools[upstream.id] = PoolState(upstream, now)
        state.last_used = now
        live = [ep for ep in endpoints if endpoint_key(ep) not in state.down]
        if not live:
            raise DownstreamError("every endpoint of the upstream failed its health check")
        chosen = live[state.turn % len(live)]
        state.turn += 1
        return chosen

    def active(self) -> list[PoolState]:
        """Pools used recently (the rest are forgotten): the health check's work list."""
        horizon = self._clock() - IDLE_POOL_SECS
        for upstream_id in [k for k, s in self._pools.items() if s.last_used < horizon]:
            del self._pools[upstream_id]
        return list(self._pools.values())

    def mark(self, state: PoolState, endpoint: Endpoint, *, up: bool) -> None:
        if self._pools.get(state.upstream.id) is not state:
            return  # the upstream changed while the probe ran: its fresh state starts clean
        if up:
            state.down.discard(endpoint_key(endpoint))
        else:
            state.down.add(endpoint_key(endpoint))

    def is_down(self, upstream_id: str, endpoint: Endpoint) -> bool:
        state = self._pools.get(upstream_id)
        return state is not None and endpoint_key(endpoint) in state.down
