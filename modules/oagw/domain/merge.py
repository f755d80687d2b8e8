"""Effective upstream (G-5.3): ancestors' shared blocks merged root → winner.

Only non-``private`` blocks of ancestors take part; the winner's own blocks always apply. ``server``,
``protocol``, ``alias``, ``id``, ``enabled`` and ``allow_private_network`` are the winner's.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..sdk import AuthConfig, CorsConfig, PluginsConfig, RateLimitConfig, Upstream
from .resolution import Resolution


def _shared(block: AuthConfig | RateLimitConfig | PluginsConfig | CorsConfig | None) -> bool:
    return block is not None and block.sharing != "private"


def merge_auth(ancestor: AuthConfig | None, own: AuthConfig | None) -> AuthConfig | None:
    """An ancestor's ``enforce`` sticks; otherwise the descendant's replaces it."""
    if ancestor is not None and ancestor.sharing == "enforce":
        return ancestor
    return own if own is not None else ancestor


def merge_rate_limit(ancestor: RateLimitConfig | None, own: RateLimitConfig | None) -> RateLimitConfig | None:
    """The lower sustained req/s wins; a private descendant limit replaces unless the ancestor enforces."""
    if ancestor is None or own is None:
        return own if own is not None else ancestor
    if own.sharing == "private" and ancestor.sharing != "enforce":
        return own
    return own if own.per_second <= ancestor.per_second else ancestor


def merge_plugins(ancestor: PluginsConfig | None, own: PluginsConfig | None) -> PluginsConfig | None:
    """Ancestor items then descendant items, deduplicated; a private descendant list replaces unless enforced."""
    if ancestor is None or own is None:
        return own if own is not None else ancestor
    if own.sharing == "private" and ancestor.sharing != "enforce":
        return own
    items = list(dict.fromkeys([*ancestor.items, *own.items]))
    sharing = "enforce" if ancestor.sharing == "enforce" else own.sharing
    return PluginsConfig(sharing=sharing, items=items)


def merge_cors(ancestor: CorsConfig | None, own: CorsConfig | None) -> CorsConfig | None:
    """With an ``inherit``/``enforce`` ancestor the origins are unioned; an enforced ancestor keeps its switches."""
    if ancestor is None or own is None:
        return own if own is not None else ancestor
    if own.sharing == "private" and ancestor.sharing != "enforce":
        return own
    base = ancestor if ancestor.sharing == "enforce" else own
    origins = list(dict.fromkeys([*ancestor.allowed_origins, *own.allowed_origins]))
    return msgspec.structs.replace(base, allowed_origins=origins)


def _shared_view(upstream: Upstream) -> Upstream:
    """What an ancestor passes down: only its non-private blocks (headers and tags carry no sharing flag)."""
    return msgspec.structs.replace(
        upstream,
        auth=upstream.auth if _shared(upstream.auth) else None,
        rate_limit=upstream.rate_limit if _shared(upstream.rate_limit) else None,
        plugins=upstream.plugins if _shared(upstream.plugins) else None,
        cors=upstream.cors if _shared(upstream.cors) else None,
    )


def merge_pair(ancestor: Upstream, own: Upstream) -> Upstream:
    return msgspec.structs.replace(
        own,
        auth=merge_auth(ancestor.auth, own.auth),
        rate_limit=merge_rate_limit(ancestor.rate_limit, own.rate_limit),
        plugins=merge_plugins(ancestor.plugins, own.plugins),
        cors=merge_cors(ancestor.cors, own.cors),
        tags=list(dict.fromkeys([*ancestor.tags, *own.tags])),
        headers=own.headers if own.headers is not None else ancestor.headers,
    )


def merge_chain(ancestors_nearest_first: Sequence[Upstream], winner: Upstream) -> Upstream:
    """Fold root → winner; ``ancestors_nearest_first`` as in ``Resolution.ancestors``."""
    ordered = list(reversed(ancestors_nearest_first))
    if not ordered:
        return winner
    acc = _shared_view(ordered[0])
    for upstream in ordered[1:]:
        acc = merge_pair(acc, _shared_view(upstream))
    return merge_pair(acc, winner)


def effective_upstream(resolution: Resolution) -> Upstream:
    return merge_chain(resolution.ancestors, resolution.winner)
