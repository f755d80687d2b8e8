"""The pool health check (G-16.1): every 10 s a TCP connect to each endpoint of the pools in use.

Probes obey the network policy: an endpoint the policy refuses is never connected to (the check must not become a
way to scan private networks); it stays as it is and the request path refuses it as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import structlog

from ..domain.endpoints import is_ipv4_literal
from ..domain.netpolicy import NetworkPolicy
from ..domain.pool import EndpointPools, PoolState
from ..sdk import Endpoint, TargetBlockedError

_log = structlog.get_logger("fabrikit.modules.oagw")
HEALTH_CHECK_INTERVAL_SECS = 10.0


class HealthChecker:
    def __init__(
        self,
        pools: EndpointPools,
        policy: NetworkPolicy,
        *,
        connect_timeout_secs: float,
        interval_secs: float = HEALTH_CHECK_INTERVAL_SECS,
    ) -> None:
        self._pools = pools
        self._policy = policy
        self._timeout = connect_timeout_secs
        self._interval = interval_secs
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="oagw-health-check")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check_now()
            except Exception as exc:  # one bad pass must not end the checks
                _log.warning("oagw_health_check_failed", error=type(exc).__name__)

    async def check_now(self) -> None:
        """One pass over every active pool; endpoints are probed concurrently."""
        probes = [
            self._probe(state, endpoint) for state in self._pools.active() for endpoint in state.endpoints
        ]
        await asyncio.gather(*probes)

    async def _probe(self, state: PoolState, endpoint: Endpoint) -> None:
        try:
            address = await self._address(endpoint, state.upstream.allow_private_network)
        except TargetBlockedError:
            return
        except OSError:
            self._pools.mark(state, endpoint, up=False)  # the name does not resolve
            return
        try:
            async with asyncio.timeout(self._timeout):
                _, writer = await asyncio.open_connection(address, endpoint.port)
        except (OSError, TimeoutError):
            up = False
        else:
            up = True
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if not up and not self._pools.is_down(state.upstream.id, endpoint):
            _log.warning("oagw_endpoint_down", alias=state.upstream.alias, host=endpoint.host)
        self._pools.mark(state, endpoint, up=up)

    async def _address(self, endpoint: Endpoint, allow_private_network: bool) -> str:
        """The address to probe, checked against the network policy exactly as a request would be."""
        if is_ipv4_literal(endpoint.host):
            addresses = [endpoint.host]
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(
                endpoint.host, endpoint.port, type=socket.SOCK_STREAM
            )
            addresses = [str(info[4][0]) for info in infos]
        self._policy.check(
            endpoint.host, endpoint.port, addresses, allow_private_network=allow_private_network
        )
        return addresses[0]
