"""Endpoints (G-3.2), alias derivation (G-3.3) and re-derivation on update (G-3.4)."""

from __future__ import annotations

import pytest

from fabrikit.modules.oagw.domain.alias import (
    alias_for_create,
    alias_for_update,
    derive_alias,
    normalize_alias,
    validate_explicit_alias,
)
from fabrikit.modules.oagw.domain.endpoints import select_target_host, validate_endpoints
from fabrikit.modules.oagw.domain.validation import replace_upstream
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    Endpoint,
    InvalidTargetHostError,
    UnknownTargetHostError,
    UpstreamUpdate,
    ValidationError,
)

from .factories import server, upstream


def eps(*hosts: str, scheme: str = "https", port: int = 443) -> list[Endpoint]:
    return server(*hosts, scheme=scheme, port=port).endpoints


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        (eps("api.openai.com"), "api.openai.com"),
        (eps("API.OpenAI.com."), "api.openai.com"),
        (eps("api.openai.com", port=8443), "api.openai.com:8443"),
        (eps("localhost", scheme="http", port=80), "localhost"),
        (eps("localhost", scheme="http", port=443), "localhost:443"),
        (eps("eu.vendor.com", "us.vendor.com"), "vendor.com"),
        (eps("a.eu.vendor.com", "b.eu.vendor.com"), "eu.vendor.com"),
        (eps("eu.vendor.com", "us.vendor.com", port=9000), "vendor.com:9000"),
        (eps("a.example.co.uk", "b.example.co.uk"), "example.co.uk"),
        (eps("example.co.uk", "other.co.uk"), None),  # the common suffix co.uk is public
        (eps("a.com", "b.org"), None),
        (eps("a.vendor.com", "b.other.com"), None),  # "com" alone has one label
        (eps("10.0.0.1"), None),
        (eps("10.0.0.1", "10.0.0.2"), None),
    ],
)
def test_derivation_matrix(endpoints: list[Endpoint], expected: str | None) -> None:
    assert derive_alias(endpoints) == expected


def test_supplied_alias_must_equal_derived() -> None:
    assert alias_for_create(eps("api.openai.com"), None) == "api.openai.com"
    assert alias_for_create(eps("api.openai.com"), "API.openai.com.") == "api.openai.com"
    with pytest.raises(ValidationError, match="derived alias"):
        alias_for_create(eps("api.openai.com"), "openai")


def test_non_derivable_needs_explicit_alias() -> None:
    with pytest.raises(ValidationError, match="supply one"):
        alias_for_create(eps("10.0.0.1"), None)
    with pytest.raises(ValidationError):
        alias_for_create(eps("example.co.uk", "other.co.uk"), None)
    assert alias_for_create(eps("127.0.0.1", scheme="http", port=8000), "mock-llm") == "mock-llm"


@pytest.mark.parametrize("bad", ["", ".", "..", "---", "a b", "a/b", "x" * 254, "é"])
def test_explicit_alias_rules(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_explicit_alias(bad)


def test_explicit_alias_normalised() -> None:
    assert validate_explicit_alias("My_LLM:8080") == "my_llm:8080"
    assert normalize_alias("Host.Example.:8443") == "host.example:8443"


@pytest.mark.parametrize(
    ("endpoints", "reason"),
    [
        ([], "at least one"),
        (eps("::1"), "IPv6"),
        (eps("[::1]"), "IPv6"),
        (eps("10.0.0.1", "api.x.com"), "all IPv4"),
        (eps("-bad.com"), "label"),
        (eps("bad-.com"), "label"),
        (eps("a..b"), "label"),
        (eps("a_b.com"), "label"),
        (eps("x" * 64 + ".com"), "label"),
        (eps(".".join(["a" * 60] * 5)), "1-253"),
        (eps("héllo.com"), "ASCII"),
        (eps("2130706433"), "numeric"),
        (eps("api.x.com", scheme="wss"), "not supported yet"),
        (eps("api.x.com", scheme="grpc"), "not supported yet"),
        (eps("api.x.com", scheme="ftp"), "https"),
        (eps("api.x.com", port=0), "port"),
        ([Endpoint(host="a.x.com"), Endpoint(host="b.x.com", scheme="http")], "one scheme"),
        ([Endpoint(host="a.x.com"), Endpoint(host="b.x.com", port=8443)], "one port"),
    ],
)
def test_endpoint_validation(endpoints: list[Endpoint], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        validate_endpoints(endpoints)


def test_endpoint_validation_accepts_trailing_dot_and_lowercases_scheme() -> None:
    assert validate_endpoints([Endpoint(host="api.x.com.", scheme="HTTPS")])[0].scheme == "https"


def _update(*hosts: str, alias: str | None = None) -> UpstreamUpdate:
    return UpstreamUpdate(
        server=server(*hosts), protocol=HTTP_PROTOCOL_ID, enabled=True, tags=[], alias=alias
    )


def test_update_rederives_alias_when_endpoints_change() -> None:
    current = upstream("api.old.com")
    assert replace_upstream(current, _update("api.new.com")).alias == "api.new.com"
    assert replace_upstream(current, _update("api.new.com")).id == current.id


def test_update_derivable_to_non_derivable_needs_alias() -> None:
    current = upstream("api.old.com")
    with pytest.raises(ValidationError):
        replace_upstream(current, _update("10.0.0.9"))
    assert replace_upstream(current, _update("10.0.0.9", alias="internal")).alias == "internal"


def test_update_ipv4_to_ipv4_keeps_alias_unless_given() -> None:
    current = upstream("10.0.0.1", alias="svc")
    assert replace_upstream(current, _update("10.0.0.2")).alias == "svc"
    assert replace_upstream(current, _update("10.0.0.2", alias="svc2")).alias == "svc2"


def test_unchanged_endpoints_only_non_derivable_alias_may_change() -> None:
    derivable = upstream("api.x.com")
    with pytest.raises(ValidationError):
        replace_upstream(derivable, _update("api.x.com", alias="other"))
    assert replace_upstream(derivable, _update("api.x.com")).alias == "api.x.com"
    ipv4 = upstream("10.0.0.1", alias="svc")
    assert replace_upstream(ipv4, _update("10.0.0.1", alias="renamed")).alias == "renamed"
    assert alias_for_update(eps("10.0.0.1"), "svc", eps("10.0.0.1"), None) == "svc"


def test_target_host_selection() -> None:
    pool = eps("a.vendor.com", "b.vendor.com")
    assert select_target_host(pool, None) is None
    assert select_target_host(pool, "B.Vendor.com") == pool[1]
    with pytest.raises(InvalidTargetHostError):
        select_target_host(pool, "b.vendor.com:443")
    with pytest.raises(UnknownTargetHostError):
        select_target_host(pool, "c.vendor.com")
