"""Upstream/route semantic validation (G-3.1, G-4.1–G-4.3, G-13.3, G-15.1)."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.modules.oagw.domain.validation import (
    build_route,
    build_upstream,
    replace_route,
    route_ensure_key,
    spec_of,
    validate_match,
)
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    UPSTREAM_TYPE_ID,
    ConflictError,
    HeadersConfig,
    HttpMatch,
    RateLimitConfig,
    RequestHeaderRules,
    ResponseHeaderRules,
    RouteMatch,
    RouteSpec,
    RouteUpdate,
    SustainedRate,
    UpstreamSpec,
    ValidationError,
    parse_upstream_id,
)

from .factories import PARENT, TENANT, route, server, upstream


def test_upstream_wire_form() -> None:
    up = upstream("api.openai.com", tags=["llm", "llm"])
    assert up.id.startswith(UPSTREAM_TYPE_ID)
    parse_upstream_id(up.id)
    assert up.tags == ["llm"]
    wire = msgspec.json.decode(msgspec.json.encode(up))
    assert wire["alias"] == "api.openai.com"
    assert wire["server"]["endpoints"] == [{"host": "api.openai.com", "scheme": "https", "port": 443}]
    assert wire["tenant_id"] == str(TENANT)


def test_create_spec_schema_misfits_are_decode_errors() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"protocol": "x"}', type=UpstreamSpec)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            b'{"server": {"endpoints": [{"host": "a.com"}]}, "protocol": "p", "bogus": 1}', type=UpstreamSpec
        )
    spec = msgspec.json.decode(
        b'{"server": {"endpoints": [{"host": "a.com"}]}, "protocol": "p"}', type=UpstreamSpec
    )
    assert spec.server.endpoints[0].port == 443


def test_protocol_must_be_http() -> None:
    with pytest.raises(ValidationError, match="protocol"):
        build_upstream(
            UpstreamSpec(server=server("a.com"), protocol="gts.x.core.oagw.protocol.v1~x.grpc.v1"),
            tenant_id=TENANT,
        )


@pytest.mark.parametrize(
    "rules",
    [
        HeadersConfig(request=RequestHeaderRules(set={"Authorization": "Bearer x"})),
        HeadersConfig(request=RequestHeaderRules(add={"cookie": "a=b"})),
        HeadersConfig(request=RequestHeaderRules(set={"Host": "evil"})),
        HeadersConfig(request=RequestHeaderRules(set={"Connection": "close"})),
        HeadersConfig(request=RequestHeaderRules(set={"X-OAGW-Target-Host": "a"})),
        HeadersConfig(response=ResponseHeaderRules(set={"x-oagw-error-source": "gateway"})),
        HeadersConfig(request=RequestHeaderRules(set={"bad name": "v"})),
        HeadersConfig(request=RequestHeaderRules(set={"x-ok": "a\r\nx-injected: 1"})),
        HeadersConfig(request=RequestHeaderRules(passthrough="none", passthrough_allowlist=["x-a"])),
    ],
)
def test_forbidden_header_rules(rules: HeadersConfig) -> None:
    with pytest.raises(ValidationError):
        upstream("a.com", headers=rules)


def test_header_rule_names_lowercased() -> None:
    rules = HeadersConfig(
        request=RequestHeaderRules(
            set={"X-Api-Version": "2"},
            remove=["X-Drop"],
            passthrough="allowlist",
            passthrough_allowlist=["X-Trace"],
        )
    )
    req = upstream("a.com", headers=rules).headers.request  # type: ignore[union-attr]
    assert req is not None
    assert (req.set, req.remove, req.passthrough_allowlist) == (
        {"x-api-version": "2"},
        ["x-drop"],
        ["x-trace"],
    )


@pytest.mark.parametrize(
    "limit",
    [
        RateLimitConfig(sustained=SustainedRate(rate=0)),
        RateLimitConfig(sustained=SustainedRate(rate=float("nan"))),
        RateLimitConfig(sustained=SustainedRate(rate=5), cost=0),
        RateLimitConfig(sustained=SustainedRate(rate=5), cost=6),
    ],
)
def test_rate_limit_rules(limit: RateLimitConfig) -> None:
    with pytest.raises(ValidationError):
        upstream("a.com", rate_limit=limit)


@pytest.mark.parametrize(
    ("match", "reason"),
    [
        (RouteMatch(), "exactly one"),
        (RouteMatch(http=HttpMatch(methods=["GET"], path="/"), grpc={}), "exactly one"),
        (RouteMatch(grpc={"service": "x"}), "not supported"),
        (RouteMatch(http=HttpMatch(methods=[], path="/")), "at least one"),
        (RouteMatch(http=HttpMatch(methods=["HEAD"], path="/")), "among"),
        (RouteMatch(http=HttpMatch(methods=["GET"], path="v1")), "start with"),
        (RouteMatch(http=HttpMatch(methods=["GET"], path="/v1/../x")), "normalised"),
    ],
)
def test_match_validation(match: RouteMatch, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        validate_match(match)


def test_match_normalised() -> None:
    http = validate_match(RouteMatch(http=HttpMatch(methods=["get", "GET", "post"], path="/v1/"))).http
    assert http is not None
    assert (http.methods, http.path) == (["GET", "POST"], "/v1")


def test_route_must_target_own_upstream() -> None:
    mine = upstream("a.com")
    foreign = upstream("a.com", tenant=PARENT)
    spec = RouteSpec(upstream_id=foreign.id, match=RouteMatch(http=HttpMatch(methods=["GET"], path="/")))
    with pytest.raises(ValidationError, match="own upstreams"):
        build_route(spec, tenant_id=TENANT, upstream=foreign)
    with pytest.raises(ValidationError):
        build_route(spec, tenant_id=TENANT, upstream=None)
    with pytest.raises(ValidationError, match="form"):
        build_route(
            msgspec.structs.replace(spec, upstream_id="not-a-gts-id"), tenant_id=TENANT, upstream=mine
        )


def test_route_conflicts() -> None:
    up = upstream("a.com")
    first = route(up, "/v1", ("GET", "POST"))
    with pytest.raises(ConflictError):
        route(up, "/v1/", ("POST", "PUT"), existing=(first,))
    route(up, "/v1", ("PUT",), existing=(first,))  # no shared method
    route(up, "/v1", ("GET",), priority=1, existing=(first,))  # other priority
    route(up, "/v2", ("GET",), existing=(first,))  # other path
    route(up, "/v1", ("GET",), enabled=False, existing=(first,))  # disabled
    other = route(upstream("b.com"), "/v1", ("GET",))
    route(up, "/v1", ("DELETE",), existing=(other,))


def test_route_update_keeps_id_and_upstream_and_checks_conflicts() -> None:
    up = upstream("a.com")
    a = route(up, "/a", ("GET",))
    b = route(up, "/b", ("GET",))
    update = RouteUpdate(
        match=RouteMatch(http=HttpMatch(methods=["GET"], path="/a")), tags=[], enabled=True, priority=0
    )
    with pytest.raises(ConflictError):
        replace_route(b, update, existing=(a, b))
    moved = replace_route(b, msgspec.structs.replace(update, priority=3), existing=(a, b))
    assert (moved.id, moved.upstream_id, moved.priority) == (b.id, up.id, 3)
    with pytest.raises(ValidationError, match="cannot change"):
        replace_route(b, msgspec.structs.replace(update, upstream_id=upstream("c.com").id))
    assert route_ensure_key(moved) == (up.id, "/a", frozenset({"GET"}))


def test_spec_of_round_trips() -> None:
    up = upstream("a.com", tags=["x"])
    from fabrikit.modules.oagw.domain.validation import replace_upstream

    assert replace_upstream(up, spec_of(up)) == up
    assert up.protocol == HTTP_PROTOCOL_ID
