"""Route matching (G-4.4), tenant-chain resolution (G-5.2) and merge (G-5.3)."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.modules.oagw.domain.matching import match_route, select_route
from fabrikit.modules.oagw.domain.merge import effective_upstream, merge_chain
from fabrikit.modules.oagw.domain.resolution import is_shared, resolve_upstream
from fabrikit.modules.oagw.sdk import (
    AuthConfig,
    CorsConfig,
    NotFoundError,
    PluginItem,
    PluginsConfig,
    RateLimitConfig,
    RouteNotFoundError,
    SustainedRate,
    UpstreamDisabledError,
)

from .factories import PARENT, ROOT, TENANT, route, upstream


def test_segment_aware_prefix() -> None:
    up = upstream()
    v1 = route(up, "/v1", ("GET",))
    assert match_route([v1], "GET", "/v1") is v1
    assert match_route([v1], "GET", "/v1/") is v1
    assert match_route([v1], "GET", "/v1/models") is v1
    assert match_route([v1], "GET", "/v10") is None
    assert match_route([v1], "GET", "/v") is None
    root = route(up, "/", ("GET",))
    assert match_route([root], "get", "/anything") is root


def test_longest_path_then_priority_then_method() -> None:
    up = upstream()
    short = route(up, "/v1", ("GET", "POST"), priority=10)
    long_low = route(up, "/v1/chat", ("POST",), priority=0)
    long_high = route(up, "/v1/chat", ("POST",), priority=5)
    routes = [short, long_low, long_high]
    assert match_route(routes, "POST", "/v1/chat/completions") is long_high
    assert match_route(routes, "GET", "/v1/chat/completions") is short
    assert match_route(routes, "DELETE", "/v1/chat") is None


def test_disabled_routes_ignored_and_groups_in_order() -> None:
    up = upstream()
    off = route(up, "/v1/chat", ("POST",), enabled=False)
    own = route(up, "/v1", ("POST",))
    inherited = route(upstream("b.com"), "/v1/chat", ("POST",))
    assert select_route([[off, own], [inherited]], "POST", "/v1/chat") is own
    assert select_route([[off], [inherited]], "POST", "/v1/chat") is inherited
    with pytest.raises(RouteNotFoundError):
        select_route([[own]], "GET", "/v1")


SHARED_AUTH = AuthConfig(type="gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1", sharing="inherit")


def test_visibility_requires_a_shared_block() -> None:
    assert not is_shared(upstream(tenant=ROOT))
    assert not is_shared(upstream(tenant=ROOT, auth=AuthConfig(type="x")))
    assert is_shared(upstream(tenant=ROOT, auth=SHARED_AUTH))
    assert is_shared(upstream(tenant=ROOT, cors=CorsConfig(sharing="enforce")))


def test_ancestor_upstream_visible_only_when_shared() -> None:
    private_root = upstream(tenant=ROOT)
    with pytest.raises(NotFoundError) as err:
        resolve_upstream([[], [], [private_root]], "api.example.com")
    assert err.value.entity == "upstream"
    shared_root = upstream(tenant=ROOT, auth=SHARED_AUTH)
    res = resolve_upstream([[], [], [shared_root]], "API.Example.com")
    assert (res.winner, res.depth) == (shared_root, 2)


def test_own_private_upstream_always_visible_and_shadows() -> None:
    own = upstream()
    root = upstream(tenant=ROOT, auth=SHARED_AUTH)
    res = resolve_upstream([[own], [], [root]], "api.example.com")
    assert res.winner is own
    assert res.ancestors == [root]


def test_disabled_shadowing_and_503() -> None:
    own_off = upstream(enabled=False)
    parent = upstream(tenant=PARENT, auth=SHARED_AUTH)
    assert resolve_upstream([[own_off], [parent]], "api.example.com").winner is parent
    with pytest.raises(UpstreamDisabledError):
        resolve_upstream([[own_off], []], "api.example.com")
    with pytest.raises(NotFoundError):
        resolve_upstream([[upstream("other.com")]], "api.example.com")


def rl(rate: float, sharing: str = "inherit", window: str = "second") -> RateLimitConfig:
    return RateLimitConfig(sustained=SustainedRate(rate=rate, window=window), sharing=sharing)  # type: ignore[arg-type]


def test_merge_auth_enforce_sticks_else_descendant_replaces() -> None:
    own_auth = AuthConfig(type="mine")
    enforced = AuthConfig(type="root", sharing="enforce")
    root = upstream(tenant=ROOT, auth=enforced)
    assert merge_chain([root], upstream(auth=own_auth)).auth == enforced
    root = upstream(tenant=ROOT, auth=SHARED_AUTH)
    assert merge_chain([root], upstream(auth=own_auth)).auth == own_auth
    assert merge_chain([root], upstream()).auth == SHARED_AUTH


def test_merge_rate_limit() -> None:
    root = upstream(tenant=ROOT, rate_limit=rl(10))
    assert merge_chain([root], upstream(rate_limit=rl(60, window="minute"))).rate_limit == rl(
        60, window="minute"
    )
    assert merge_chain([root], upstream(rate_limit=rl(20))).rate_limit == rl(10)
    assert merge_chain([root], upstream(rate_limit=rl(20, "private"))).rate_limit == rl(20, "private")
    enforced = upstream(tenant=ROOT, rate_limit=rl(10, "enforce"))
    assert merge_chain([enforced], upstream(rate_limit=rl(20, "private"))).rate_limit == rl(10, "enforce")


def test_merge_plugins_tags_headers_and_winner_fields() -> None:
    a, b = PluginItem(plugin_ref="a"), PluginItem(plugin_ref="b")
    root = upstream(tenant=ROOT, plugins=PluginsConfig(sharing="inherit", items=[a]), tags=["r"])
    merged = merge_chain([root], upstream(plugins=PluginsConfig(sharing="inherit", items=[a, b]), tags=["o"]))
    assert merged.plugins is not None
    assert merged.plugins.items == [a, b]
    assert merged.tags == ["r", "o"]
    private = merge_chain([root], upstream(plugins=PluginsConfig(items=[b])))
    assert private.plugins == PluginsConfig(items=[b])
    own = upstream()
    assert merge_chain([root], own).id == own.id


def test_private_ancestor_blocks_do_not_leak() -> None:
    mid = upstream(tenant=PARENT, auth=SHARED_AUTH, rate_limit=rl(1, "private"))
    merged = merge_chain([mid], upstream())
    assert merged.rate_limit is None
    assert merged.auth == SHARED_AUTH


def test_merge_cors_unions_origins() -> None:
    root = upstream(tenant=ROOT, cors=CorsConfig(sharing="inherit", allowed_origins=["https://a.com"]))
    own = upstream(cors=CorsConfig(sharing="inherit", allowed_origins=["https://b.com"]))
    res = resolve_upstream([[own], [root]], "api.example.com")
    merged = effective_upstream(res)
    assert merged.cors is not None
    assert merged.cors.allowed_origins == ["https://a.com", "https://b.com"]
    assert msgspec.structs.replace(merged, cors=own.cors) == msgspec.structs.replace(own, tags=own.tags)


def test_three_level_chain_root_to_winner() -> None:
    root = upstream(tenant=ROOT, rate_limit=rl(5, "enforce"))
    parent = upstream(tenant=PARENT, auth=SHARED_AUTH)
    own = upstream(tenant=TENANT, rate_limit=rl(100, "private"))
    res = resolve_upstream([[own], [parent], [root]], "api.example.com")
    merged = effective_upstream(res)
    assert merged.rate_limit == rl(5, "enforce")
    assert merged.auth == SHARED_AUTH
