"""Proxy URI parsing (G-11.2) and outbound URLs (G-4.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.oagw.domain.paths import build_url, check_query_allowlist, check_suffix_mode
from fabrikit.modules.oagw.sdk import (
    Endpoint,
    HttpMatch,
    ProxyRequest,
    ValidationError,
    encode_query,
    normalize_path,
    parse_query,
)


def test_alias_with_port_and_path_split() -> None:
    req = ProxyRequest.from_uri("get", "/api.example.com:8443/v1/models?limit=5")
    assert (req.alias, req.path, req.query) == ("api.example.com:8443", "/v1/models", [("limit", "5")])


def test_alias_without_suffix() -> None:
    req = ProxyRequest.from_uri("GET", "/api.example.com")
    assert (req.alias, req.path, req.query) == ("api.example.com", "/", [])


@pytest.mark.parametrize("uri", ["//v1/x", "/", "/?a=1", "no-slash"])
def test_empty_alias_rejected(uri: str) -> None:
    with pytest.raises(ValidationError):
        ProxyRequest.from_uri("GET", uri)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/a//b", "/a/b"),
        ("/a/./b", "/a/b"),
        ("/a/b/../c", "/a/c"),
        ("/../../a", "/a"),
        ("/a/b/..", "/a/"),
        ("/a/", "/a/"),
        ("", "/"),
        ("/%7Euser/%41b", "/~user/Ab"),
        ("/a%3ab", "/a%3Ab"),
        ("/hello world", "/hello%20world"),
        ("/é", "/%C3%A9"),
    ],
)
def test_path_normalisation(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["/a/%2e%2e/b", "/a/%2E/b", "/a%2Fb", "/a%5cb", "/a\\b", "/a%zz", "/a%00", "/%ff"]
)
def test_dangerous_segments_rejected(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalize_path(raw)


def test_query_decoded_names_too_and_order_kept() -> None:
    req = ProxyRequest.from_uri("GET", "/a/x?na%6De=v%20w&tag=1&tag=2&empty=&flag&plus=a+b")
    assert req.query == [
        ("name", "v w"),
        ("tag", "1"),
        ("tag", "2"),
        ("empty", ""),
        ("flag", ""),
        ("plus", "a+b"),
    ]
    assert encode_query(req.query) == "name=v%20w&tag=1&tag=2&empty=&flag=&plus=a%2Bb"


@pytest.mark.parametrize("raw", ["a=%zz", "a=%ff", "%4"])
def test_bad_query_encoding_rejected(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_query(raw)


@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=6))
def test_query_round_trip(pairs: list[tuple[str, str]]) -> None:
    assert parse_query(encode_query(pairs)) == pairs


@given(st.text(max_size=40))
def test_normalize_is_idempotent(raw: str) -> None:
    try:
        once = normalize_path(raw)
    except ValidationError:
        return
    assert normalize_path(once) == once
    assert once.startswith("/")
    assert "//" not in once


def test_build_url_standard_and_custom_ports() -> None:
    assert build_url(Endpoint(host="api.x.com"), "/v1/a", [("q", "a b")]) == "https://api.x.com/v1/a?q=a%20b"
    assert build_url(Endpoint(host="127.0.0.1", scheme="http", port=8080), "/") == "http://127.0.0.1:8080/"
    assert build_url(Endpoint(host="h.com", scheme="http", port=80), "/p") == "http://h.com/p"


def test_suffix_mode_and_query_allowlist() -> None:
    disabled = HttpMatch(
        methods=["GET"], path="/v1/models", path_suffix_mode="disabled", query_allowlist=["limit"]
    )
    check_suffix_mode(disabled, "/v1/models")
    check_suffix_mode(disabled, "/v1/models/")
    with pytest.raises(ValidationError):
        check_suffix_mode(disabled, "/v1/models/gpt")
    check_suffix_mode(HttpMatch(methods=["GET"], path="/v1"), "/v1/anything/else")
    check_query_allowlist(disabled, [("limit", "1"), ("limit", "2")])
    with pytest.raises(ValidationError):
        check_query_allowlist(disabled, [("api_key", "x")])
    with pytest.raises(ValidationError):
        check_query_allowlist(HttpMatch(methods=["GET"], path="/"), [("limit", "1")])
