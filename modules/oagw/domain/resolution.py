"""Tenant-chain resolution of an alias (G-5.2): visibility, shadowing, disabled → 503, none → 404."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..sdk import NotFoundError, Upstream, UpstreamDisabledError
from .alias import normalize_alias


class Resolution(msgspec.Struct, kw_only=True):
    """The winning upstream, its depth in the chain (0 = caller's own tenant), and the visible enabled upstreams
    with the same alias in the ancestors above it, nearest first (what G-5.3 merges and G-4.4 falls back to)."""

    winner: Upstream
    depth: int
    ancestors: list[Upstream] = msgspec.field(default_factory=list)


def is_shared(upstream: Upstream) -> bool:
    """An ancestor's upstream is visible to descendants only if a sharing-capable block is not private."""
    blocks = (upstream.auth, upstream.rate_limit, upstream.plugins, upstream.cors)
    return any(block is not None and block.sharing != "private" for block in blocks)


def resolve_upstream(chain: Sequence[Sequence[Upstream]], alias: str) -> Resolution:
    """``chain[i]`` holds candidate upstreams of the i-th tenant of ``[own, parent, …, root]``.

    Candidates may be pre-filtered by alias or not; aliases compare case-insensitively. The nearest visible
    enabled upstream wins; if only disabled ones are visible → 503; if none → 404 ``resource.not_found``.
    """
    wanted = normalize_alias(alias)
    winner: tuple[int, Upstream] | None = None
    ancestors: list[Upstream] = []
    saw_disabled = False
    for depth, upstreams in enumerate(chain):
        for upstream in upstreams:
            if normalize_alias(upstream.alias) != wanted:
                continue
            if depth > 0 and not is_shared(upstream):
                continue
            if not upstream.enabled:
                saw_disabled = True
                continue
            if winner is None:
                winner = (depth, upstream)
            elif depth > winner[0]:
                ancestors.append(upstream)
    if winner is None:
        if saw_disabled:
            raise UpstreamDisabledError("the upstream for this alias is disabled")
        raise NotFoundError("no upstream is registered for this alias", entity="upstream")
    return Resolution(winner=winner[1], depth=winner[0], ancestors=ancestors)
