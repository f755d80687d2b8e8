"""The pipeline through the in-process ``OagwClient`` against real loopback upstreams (G-7, G-12 … G-19)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import structlog

from fabrikit.modules.oagw.sdk import (
    BEARER_AUTH_ID,
    OAUTH2_CLIENT_CRED_AUTH_ID,
    OAUTH2_CLIENT_CRED_BASIC_AUTH_ID,
    REQUEST_ID_TRANSFORM_ID,
    REQUIRED_HEADERS_GUARD_ID,
    AuthConfig,
    AuthenticationFailedError,
    Endpoint,
    GuardRejectedError,
    HeadersConfig,
    IdleTimeoutError,
    LinkUnavailableError,
    NotFoundError,
    OagwError,
    PayloadTooLargeError,
    PluginItem,
    PluginsConfig,
    ProxyRequest,
    RateLimitConfig,
    RateLimitExceededError,
    RequestHeaderRules,
    RequestTimeoutError,
    ResponseHeaderRules,
    RouteNotFoundError,
    SecretNotFoundError,
    Server,
    StreamAbortedError,
    SustainedRate,
    TargetBlockedError,
    UpstreamDisabledError,
    UpstreamUpdate,
    ValidationError,
    from_response,
)

from .harness import (
    CTX,
    OTHER_SUBJECT,
    SECRET_VALUE,
    apikey_auth,
    client_of,
    oagw_runtime,
    provision,
    route_spec,
    upstream_spec,
)
from .upstreams import Upstreams, chunks_of, echoed, failing_source, header_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def ups() -> AsyncIterator[Upstreams]:
    async with Upstreams() as servers:
        yield servers


def post(path: str, body: object = b"", **kw: object) -> ProxyRequest:
    return ProxyRequest(method="POST", alias="echo", path=path, body=body, **kw)  # type: ignore[arg-type]


async def test_round_trip_keeps_body_and_marks_upstream(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups, route={"query_allowlist": ["model"]})
        body = b'{"model":"gpt","messages":[{"role":"user","content":"hi"}]}'
        req = ProxyRequest.from_uri(
            "POST", "/echo/echo/v1/chat%20x?model=a%2Fb", [("Content-Type", "application/json")], body
        )
        async with await client_of(h).proxy_request(CTX, req) as resp:
            assert resp.status == 200
            assert resp.error_source == "upstream"
            assert resp.header("x-oagw-error-source") == "upstream"
            seen = echoed(await resp.read())
        assert seen["body"] == body
        assert seen["raw_path"] == "/echo/v1/chat%20x?model=a%2Fb"
        assert header_of(seen, "content-type") == "application/json"


async def test_apikey_reaches_upstream_and_caller_credentials_never_do(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=apikey_auth())
        req = post(
            "/echo",
            headers=[("Authorization", "Bearer caller-token"), ("Cookie", "sid=1"), ("X-Custom", "dropped")],
        )
        async with await client_of(h).proxy_request(CTX, req) as resp:
            seen = echoed(await resp.read())
        assert header_of(seen, "authorization") == f"Bearer {SECRET_VALUE}"
        assert header_of(seen, "cookie") is None
        assert header_of(seen, "x-custom") is None


async def test_secret_never_reaches_logs(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=apikey_auth())
        with structlog.testing.capture_logs() as logs:
            async with await client_of(h).proxy_request(CTX, post("/echo")) as resp:
                await resp.read()
        assert any(entry.get("event") == "oagw_request" for entry in logs)
        assert SECRET_VALUE not in repr(logs)


async def test_sse_events_arrive_while_upstream_still_sending(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups)
        resp = await client_of(h).proxy_request(
            CTX, ProxyRequest(method="GET", alias="echo", path="/sse-gated")
        )
        stream = from_response(resp)
        async with stream:
            events = aiter(stream)  # type: ignore[arg-type]
            first = await anext(events)
            assert first.json() == {"i": 0}
            assert not ups.sse_release.is_set()  # the upstream has not finished: nothing was buffered
            ups.sse_release.set()
            rest = [e async for e in events]
        assert [e.json() for e in rest if not e.is_done] == [{"i": 1}]
        assert rest[-1].is_done


async def test_upstream_500_is_returned_not_raised(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups)
        async with await client_of(h).proxy_request(
            CTX, ProxyRequest(method="GET", alias="echo", path="/fail")
        ) as r:
            assert r.status == 500
            assert r.error_source == "upstream"
            assert b"upstream exploded" in await r.read()


async def test_refused_connection_raises_link_unavailable(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"private_network_allowlist": ["127.0.0.1"]}) as h:
        client = client_of(h)
        dead = await client.create_upstream(CTX, upstream_spec(ups, alias="dead", port=1))
        await client.create_route(CTX, route_spec(dead))
        with pytest.raises(LinkUnavailableError) as info:
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="dead", path="/"))
        assert info.value.status == 503
        assert info.value.response_headers()["X-OAGW-Error-Source"] == "gateway"


async def test_unknown_alias_404_and_disabled_503(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        client = client_of(h)
        with pytest.raises(NotFoundError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="nope", path="/"))
        up = await provision(h, ups)
        await client.update_upstream(
            CTX,
            up.id,
            UpstreamUpdate(server=up.server, protocol=up.protocol, enabled=False, tags=[], alias="echo"),
        )
        with pytest.raises(UpstreamDisabledError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/echo"))


async def test_loopback_and_metadata_refused_without_allowance(ups: Upstreams) -> None:
    async with oagw_runtime(ups, allowlisted=False) as h:
        client = client_of(h)
        await provision(h, ups)
        with pytest.raises(TargetBlockedError) as info:
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/echo"))
        assert "127.0.0.1" not in info.value.detail
        meta = await client.create_upstream(
            CTX, upstream_spec(ups, alias="meta", host="169.254.169.254", port=80)
        )
        await client.create_route(CTX, route_spec(meta))
        with pytest.raises(TargetBlockedError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="meta", path="/"))
        # A hostname resolving to loopback is refused by the DNS guard.
        named = await client.create_upstream(CTX, upstream_spec(ups, alias=None, host="localhost"))  # type: ignore[arg-type]
        await client.create_route(CTX, route_spec(named))
        with pytest.raises(TargetBlockedError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias=named.alias, path="/echo"))


async def test_allowances_let_loopback_through_but_metadata_never(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"private_network_allowlist": [f"localhost:{ups.port}"]}) as h:
        client = client_of(h)
        named = await client.create_upstream(CTX, upstream_spec(ups, alias=None, host="localhost"))  # type: ignore[arg-type]
        assert named.alias == f"localhost:{ups.port}"
        await client.create_route(CTX, route_spec(named))
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias=named.alias, path="/echo")
        ) as r:
            assert r.status == 200
            await r.read()
        flagged = await client.create_upstream(
            CTX, upstream_spec(ups, alias="flagged", allow_private_network=True)
        )
        await client.create_route(CTX, route_spec(flagged))
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias="flagged", path="/echo")
        ) as r:
            assert r.status == 200
            await r.read()
        meta = await client.create_upstream(
            CTX, upstream_spec(ups, alias="meta", host="169.254.169.254", port=80, allow_private_network=True)
        )
        await client.create_route(CTX, route_spec(meta))
        with pytest.raises(TargetBlockedError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="meta", path="/"))


async def test_http_endpoint_needs_allow_http_upstream(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"allow_http_upstream": False}) as h:
        await provision(h, ups)
        with pytest.raises(ValidationError):
            await client_of(h).proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/echo"))


async def test_rate_limit_headers_on_success_and_429_with_retry_after(ups: Upstreams) -> None:
    limit = RateLimitConfig(sustained=SustainedRate(rate=2, window="minute"))
    async with oagw_runtime(ups) as h:
        await provision(h, ups, rate_limit=limit)
        client = client_of(h)
        for remaining in ("1", "0"):
            async with await client.proxy_request(CTX, post("/echo")) as resp:
                assert resp.header("x-ratelimit-limit") == "2"
                assert resp.header("x-ratelimit-remaining") == remaining
                assert resp.header("x-ratelimit-reset") is not None
                await resp.read()
        with pytest.raises(RateLimitExceededError) as info:
            await client.proxy_request(CTX, post("/echo"))
        headers = info.value.response_headers()
        assert int(headers["Retry-After"]) >= 1
        assert headers["X-RateLimit-Remaining"] == "0"
        assert info.value.detail == RateLimitExceededError.DETAIL


async def test_rate_limit_without_response_headers_keeps_retry_after(ups: Upstreams) -> None:
    limit = RateLimitConfig(sustained=SustainedRate(rate=1, window="minute"), response_headers=False)
    async with oagw_runtime(ups) as h:
        await provision(h, ups, rate_limit=limit)
        async with await client_of(h).proxy_request(CTX, post("/echo")) as resp:
            assert resp.header("x-ratelimit-limit") is None
            await resp.read()
        with pytest.raises(RateLimitExceededError) as info:
            await client_of(h).proxy_request(CTX, post("/echo"))
        assert "Retry-After" in info.value.response_headers()


async def test_user_scope_isolates_subjects_and_route_scope_isolates_routes(ups: Upstreams) -> None:
    user_limit = RateLimitConfig(sustained=SustainedRate(rate=1, window="minute"), scope="user")
    route_limit = RateLimitConfig(sustained=SustainedRate(rate=1, window="minute"), scope="route")
    async with oagw_runtime(ups) as h:
        client = client_of(h)
        await provision(h, ups, rate_limit=user_limit)
        async with await client.proxy_request(CTX, post("/echo")) as r:
            await r.read()
        with pytest.raises(RateLimitExceededError):
            await client.proxy_request(CTX, post("/echo"))
        async with await client.proxy_request(OTHER_SUBJECT, post("/echo")) as r:
            assert r.status == 200
            await r.read()
        two = await client.create_upstream(CTX, upstream_spec(ups, alias="two", rate_limit=route_limit))
        await client.create_route(CTX, route_spec(two, "/echo/a"))
        await client.create_route(CTX, route_spec(two, "/echo/b"))
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias="two", path="/echo/a")
        ) as r:
            await r.read()
        with pytest.raises(RateLimitExceededError):
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="two", path="/echo/a"))
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias="two", path="/echo/b")
        ) as r:
            assert r.status == 200
            await r.read()


async def test_route_level_limit_applies_with_upstream_limit(ups: Upstreams) -> None:
    wide = RateLimitConfig(sustained=SustainedRate(rate=100, window="minute"))
    narrow = RateLimitConfig(sustained=SustainedRate(rate=1, window="minute"))
    async with oagw_runtime(ups) as h:
        await provision(h, ups, rate_limit=wide, route={"rate_limit": narrow})
        async with await client_of(h).proxy_request(CTX, post("/echo")) as r:
            assert r.header("x-ratelimit-limit") == "1"  # the tighter of the two
            await r.read()
        with pytest.raises(RateLimitExceededError):
            await client_of(h).proxy_request(CTX, post("/echo"))


async def test_headers_later_than_proxy_timeout_raise_504(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"proxy_timeout_secs": 0.2}) as h:
        await provision(h, ups, route={"query_allowlist": ["delay"]})
        req = ProxyRequest(method="GET", alias="echo", path="/slow", query=[("delay", "5")])
        with pytest.raises(RequestTimeoutError) as info:
            await client_of(h).proxy_request(CTX, req)
        assert info.value.status == 504


async def test_sse_idle_gap_raises_from_iterator(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"streaming_idle_timeout_secs": 0.2}) as h:
        await provision(h, ups)
        resp = await client_of(h).proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/stall"))
        chunks: list[bytes] = []

        async def drain() -> None:
            async for chunk in resp.iter_bytes():
                chunks.append(chunk)

        with pytest.raises(IdleTimeoutError):
            await drain()
        assert chunks == [b'data: {"i": 0}\n\n']


async def test_body_cut_mid_stream_raises_stream_aborted(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups)
        resp = await client_of(h).proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/cut"))
        with pytest.raises(StreamAbortedError):
            await resp.read()


async def test_query_allowlist_and_suffix_mode(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(
            h, ups, path="/echo/exact", route={"query_allowlist": ["ok"], "path_suffix_mode": "disabled"}
        )
        client = client_of(h)
        async with await client.proxy_request(
            CTX, ProxyRequest.from_uri("GET", "/echo/echo/exact?ok=1")
        ) as r:
            assert echoed(await r.read())["raw_path"] == "/echo/exact?ok=1"
        with pytest.raises(ValidationError):
            await client.proxy_request(CTX, ProxyRequest.from_uri("GET", "/echo/echo/exact?bad=1"))
        with pytest.raises(ValidationError):
            await client.proxy_request(CTX, ProxyRequest.from_uri("GET", "/echo/echo/exact/more"))
        with pytest.raises(RouteNotFoundError):
            await client.proxy_request(CTX, ProxyRequest.from_uri("GET", "/echo/echo/exactly"))


async def test_unknown_auth_plugin_is_401(ups: Upstreams) -> None:
    auth = AuthConfig(type="gts.x.core.oagw.auth_plugin.v1~x.core.oagw.nothing.v1")
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=auth)
        with pytest.raises(AuthenticationFailedError):
            await client_of(h).proxy_request(CTX, post("/echo"))


async def test_missing_secret_is_500_secret_not_found(ups: Upstreams) -> None:
    auth = AuthConfig(type=BEARER_AUTH_ID, config={"secret_ref": "cred://absent"})
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=auth)
        with pytest.raises(SecretNotFoundError) as info:
            await client_of(h).proxy_request(CTX, post("/echo"))
        assert info.value.status == 500


async def test_response_headers_filtered_and_rules_applied(ups: Upstreams) -> None:
    headers = HeadersConfig(response=ResponseHeaderRules(set={"x-set": "v"}, remove=["x-remove-me"]))
    async with oagw_runtime(ups) as h:
        await provision(h, ups, headers=headers)
        async with await client_of(h).proxy_request(
            CTX, ProxyRequest(method="GET", alias="echo", path="/headers")
        ) as r:
            assert r.header("x-set") == "v"
            assert r.header("x-kept") == "1"
            assert r.header("x-remove-me") is None
            assert r.header("set-cookie") is None
            assert r.header("keep-alive") is None
            assert r.header_values("x-oagw-error-source") == ["upstream"]
            await r.read()


async def test_request_header_rules_and_passthrough(ups: Upstreams) -> None:
    rules = RequestHeaderRules(
        set={"x-api-version": "2"}, passthrough="allowlist", passthrough_allowlist=["x-trace"]
    )
    async with oagw_runtime(ups) as h:
        await provision(h, ups, headers=HeadersConfig(request=rules))
        req = post("/echo", headers=[("X-Trace", "t1"), ("X-Other", "no"), ("X-OAGW-Anything", "no")])
        async with await client_of(h).proxy_request(CTX, req) as r:
            seen = echoed(await r.read())
        assert header_of(seen, "x-trace") == "t1"
        assert header_of(seen, "x-api-version") == "2"
        assert header_of(seen, "x-other") is None
        assert header_of(seen, "x-oagw-anything") is None


async def test_required_headers_guard_and_request_id_transform(ups: Upstreams) -> None:
    plugins = PluginsConfig(
        items=[
            PluginItem(plugin_ref=REQUIRED_HEADERS_GUARD_ID, config={"required_request_headers": "x-tenant"}),
            PluginItem(plugin_ref=REQUEST_ID_TRANSFORM_ID),
        ]
    )
    rules = RequestHeaderRules(passthrough="allowlist", passthrough_allowlist=["x-tenant", "x-request-id"])
    async with oagw_runtime(ups) as h:
        await provision(h, ups, plugins=plugins, headers=HeadersConfig(request=rules))
        client = client_of(h)
        with pytest.raises(GuardRejectedError) as info:
            await client.proxy_request(CTX, post("/echo"))
        assert info.value.status == 400
        assert info.value.error_code == "REQUIRED_HEADER_MISSING"
        async with await client.proxy_request(CTX, post("/echo", headers=[("X-Tenant", "a")])) as r:
            assert header_of(echoed(await r.read()), "x-request-id")
        req = post("/echo", headers=[("X-Tenant", "a"), ("X-Request-Id", "mine")])
        async with await client.proxy_request(CTX, req) as r:
            assert header_of(echoed(await r.read()), "x-request-id") == "mine"


async def test_streamed_request_bodies(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"max_body_size_bytes": 16}) as h:
        await provision(h, ups)
        client = client_of(h)
        req = ProxyRequest(method="POST", alias="echo", path="/upload", body=chunks_of(b"abc", b"", b"def"))
        async with await client.proxy_request(CTX, req) as r:
            await r.read()
        assert echoed_upload(ups) == (b"abcdef", True)
        req = ProxyRequest(method="POST", alias="echo", path="/upload", body=chunks_of(b"single"))
        async with await client.proxy_request(CTX, req) as r:
            await r.read()
        assert echoed_upload(ups) == (b"single", True)
        with pytest.raises(PayloadTooLargeError):
            await client.proxy_request(
                CTX,
                ProxyRequest(
                    method="POST", alias="echo", path="/upload", body=chunks_of(b"x" * 10, b"y" * 10)
                ),
            )
        with pytest.raises(PayloadTooLargeError):
            await client.proxy_request(CTX, post("/upload", body=b"z" * 17))
        with pytest.raises(StreamAbortedError) as info:
            await client.proxy_request(
                CTX, ProxyRequest(method="POST", alias="echo", path="/upload", body=failing_source(b"part"))
            )
        assert info.value.status == 502
        assert ups.upload_complete[-1] is False  # the final chunk never went out


def echoed_upload(ups: Upstreams) -> tuple[bytes, bool]:
    import base64

    last = ups.requests[-1]
    return base64.b64decode(last["body_b64"]), last["chunked"]


async def test_oauth2_token_fetched_once_and_reused(ups: Upstreams) -> None:
    auth = AuthConfig(
        type=OAUTH2_CLIENT_CRED_AUTH_ID,
        config={
            "token_endpoint": ups.base + "/token",
            "client_id_ref": "client-id",
            "client_secret_ref": "cred://client-secret",
            "scopes": "a b",
        },
    )
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=auth)
        client = client_of(h)

        async def one() -> str | None:
            async with await client.proxy_request(CTX, post("/echo")) as r:
                return header_of(echoed(await r.read()), "authorization")

        seen = await asyncio.gather(*(one() for _ in range(5)))
        assert set(seen) == {"Bearer tok-1"}
        assert len(ups.token_calls) == 1
        assert ups.token_calls[0]["form"] == {
            "grant_type": "client_credentials",
            "scope": "a b",
            "client_id": "client-1",
            "client_secret": "client-secret-value",
        }


async def test_oauth2_basic_variant_and_discovery(ups: Upstreams) -> None:
    auth = AuthConfig(
        type=OAUTH2_CLIENT_CRED_BASIC_AUTH_ID,
        config={"issuer_url": ups.base, "client_id_ref": "client-id", "client_secret_ref": "client-secret"},
    )
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=auth)
        async with await client_of(h).proxy_request(CTX, post("/echo")) as r:
            assert header_of(echoed(await r.read()), "authorization") == "Bearer tok-1"
        assert ups.token_calls[0]["auth"].startswith("Basic ")
        assert "client_secret" not in ups.token_calls[0]["form"]


async def test_oauth2_missing_client_credentials_fail(ups: Upstreams) -> None:
    auth = AuthConfig(
        type=OAUTH2_CLIENT_CRED_AUTH_ID,
        config={
            "token_endpoint": ups.base + "/token",
            "client_id_ref": "absent",
            "client_secret_ref": "client-secret",
        },
    )
    async with oagw_runtime(ups) as h:
        await provision(h, ups, auth=auth)
        with pytest.raises(SecretNotFoundError):
            await client_of(h).proxy_request(CTX, post("/echo"))
        assert ups.token_calls == []


async def test_consumer_that_stops_reading_closes_upstream(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        await provision(h, ups)
        resp = await client_of(h).proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/hang"))
        async for _ in resp.iter_bytes():
            break
        await resp.aclose()
        await asyncio.wait_for(ups.disconnected.wait(), 10)


async def test_upstream_update_applies_to_next_request(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        client = client_of(h)
        up = await provision(h, ups)
        async with await client.proxy_request(CTX, post("/echo")) as r:
            assert header_of(echoed(await r.read()), "x-v") is None
        headers = HeadersConfig(request=RequestHeaderRules(set={"x-v": "2"}))
        await client.update_upstream(
            CTX,
            up.id,
            UpstreamUpdate(
                server=up.server, protocol=up.protocol, enabled=True, tags=[], alias="echo", headers=headers
            ),
        )
        async with await client.proxy_request(CTX, post("/echo")) as r:
            assert header_of(echoed(await r.read()), "x-v") == "2"


async def test_target_host_selects_endpoint_and_is_not_forwarded(ups: Upstreams) -> None:
    async with oagw_runtime(ups, oagw={"private_network_allowlist": ["127.0.0.0/8"]}) as h:
        client = client_of(h)
        spec = upstream_spec(ups, alias="pool")
        spec.server = Server(
            endpoints=[
                Endpoint(host="127.0.0.1", scheme="http", port=ups.port),
                Endpoint(host="127.0.0.2", scheme="http", port=ups.port),
            ]
        )
        pool = await client.create_upstream(CTX, spec)
        await client.create_route(CTX, route_spec(pool))
        req = ProxyRequest(
            method="GET", alias="pool", path="/echo", headers=[("X-OAGW-Target-Host", "127.0.0.1")]
        )
        async with await client.proxy_request(CTX, req) as r:
            seen = echoed(await r.read())
        assert header_of(seen, "x-oagw-target-host") is None
        assert header_of(seen, "host") == f"127.0.0.1:{ups.port}"
        for bad in ("bad host!", "10.0.0.9"):
            req = ProxyRequest(
                method="GET", alias="pool", path="/echo", headers=[("X-OAGW-Target-Host", bad)]
            )
            with pytest.raises(OagwError) as info:
                await client.proxy_request(CTX, req)
            assert info.value.status == 400


async def test_ensure_upstream_and_route_are_idempotent_and_updating(ups: Upstreams) -> None:
    async with oagw_runtime(ups) as h:
        client = client_of(h)
        first = await client.ensure_upstream(CTX, upstream_spec(ups, tags=["a"]))
        again = await client.ensure_upstream(CTX, upstream_spec(ups, tags=["a"]))
        assert again == first
        changed = await client.ensure_upstream(CTX, upstream_spec(ups, tags=["b"]))
        assert changed.id == first.id
        assert changed.tags == ["b"]
        assert len(await client.list_upstreams(CTX)) == 1

        route = await client.ensure_route(CTX, route_spec(first, "/echo", ("GET",)))
        assert await client.ensure_route(CTX, route_spec(first, "/echo", ("GET",))) == route
        updated = await client.ensure_route(CTX, route_spec(first, "/echo", ("GET",), priority=3))
        assert updated.id == route.id
        assert updated.priority == 3
        assert len(await client.list_routes(CTX, upstream_id=first.id)) == 1
        async with await client.proxy_request(
            CTX, ProxyRequest(method="GET", alias="echo", path="/echo")
        ) as r:
            assert r.status == 200
            await r.read()


async def test_circuit_breaker_opens_after_failures(ups: Upstreams) -> None:
    from fabrikit.modules.oagw.sdk import CircuitBreakerOpenError

    breaker = {"enabled": True, "failure_threshold": 2, "open_secs": 60, "half_open_probes": 1}
    async with oagw_runtime(ups, oagw={"circuit_breaker": breaker}) as h:
        await provision(h, ups)
        client = client_of(h)
        for _ in range(2):
            async with await client.proxy_request(
                CTX, ProxyRequest(method="GET", alias="echo", path="/fail")
            ) as r:
                assert r.status == 500
                await r.read()
        calls = len(ups.requests)
        with pytest.raises(CircuitBreakerOpenError) as info:
            await client.proxy_request(CTX, ProxyRequest(method="GET", alias="echo", path="/echo"))
        assert info.value.response_headers()["X-Circuit-State"] == "open"
        assert len(ups.requests) == calls  # the upstream was not touched
