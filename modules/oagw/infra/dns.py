"""DNS guard (G-17.3): an aiohttp resolver that refuses a lookup when any resolved address is blocked.

The connector connects to exactly the addresses this resolver returned, so a rebinding between the check and the
connect cannot happen. ``TargetBlockedError`` is not an ``OSError``, so aiohttp lets it through unwrapped.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ..domain.netpolicy import NetworkPolicy, is_metadata
from ..sdk import TargetBlockedError
from .metrics import SSRF_BLOCKED


class GuardedResolver(AbstractResolver):
    """``metadata_only=False``: the full G-17.2 policy with the G-17.4 allowlist (the guarded session).
    ``metadata_only=True``: only metadata addresses are refused (the session of allowed upstreams)."""

    def __init__(self, policy: NetworkPolicy, *, metadata_only: bool, inner: AbstractResolver | None = None):
        self._policy = policy
        self._metadata_only = metadata_only
        self._inner: Any = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = await self._inner.resolve(host, port, family)
        addresses = [r["host"] for r in results]
        try:
            if self._metadata_only:
                if not addresses or any(is_metadata(a) for a in addresses):
                    raise TargetBlockedError()
            else:
                self._policy.check(host, port, addresses)
        except TargetBlockedError:
            SSRF_BLOCKED.inc()
            raise
        return results

    async def close(self) -> None:
        await self._inner.close()
