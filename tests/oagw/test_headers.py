"""Header filtering, rules and framing checks (G-13, G-12.1 step 2, G-17.6)."""

from __future__ import annotations

import pytest

from fabrikit.modules.oagw.domain.headers import (
    apply_header_rules,
    check_request_framing,
    filter_request_headers,
    filter_response_headers,
)
from fabrikit.modules.oagw.sdk import (
    PayloadTooLargeError,
    RequestHeaderRules,
    ResponseHeaderRules,
    ValidationError,
)

CALLER = [
    ("Content-Type", "application/json"),
    ("Accept", "text/event-stream"),
    ("Authorization", "Bearer user-token"),
    ("Proxy-Authorization", "x"),
    ("Cookie", "session=1"),
    ("Host", "gateway.local"),
    ("Content-Length", "12"),
    ("Transfer-Encoding", "chunked"),
    ("Connection", "keep-alive, X-Secret-Hop"),
    ("Keep-Alive", "timeout=5"),
    ("TE", "trailers"),
    ("Upgrade", "h2c"),
    ("X-Secret-Hop", "1"),
    ("X-OAGW-Target-Host", "a.example.com"),
    ("X-Trace", "t1"),
    ("OpenAI-Beta", "assistants=v2"),
]


def test_passthrough_none_keeps_content_type_and_accept() -> None:
    assert filter_request_headers(CALLER) == [
        ("content-type", "application/json"),
        ("accept", "text/event-stream"),
    ]


def test_passthrough_allowlist() -> None:
    kept = filter_request_headers(CALLER, "allowlist", ["X-Trace", "Authorization", "x-secret-hop"])
    assert kept == [("content-type", "application/json"), ("accept", "text/event-stream"), ("x-trace", "t1")]


def test_passthrough_all_still_strips_credentials_framing_hops_and_oagw() -> None:
    kept = dict(filter_request_headers(CALLER, "all"))
    assert set(kept) == {"content-type", "accept", "x-trace", "openai-beta"}


def test_response_filtering() -> None:
    upstream_headers = [
        ("Content-Type", "text/event-stream"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", "10"),
        ("Set-Cookie", "tracking=1"),
        ("Connection", "close, X-Hop"),
        ("X-Hop", "1"),
        ("Transfer-Encoding", "chunked"),
        ("X-OAGW-Error-Source", "gateway"),
        ("Keep-Alive", "timeout=5"),
        ("X-Request-Id", "r"),
    ]
    assert filter_response_headers(upstream_headers) == [
        ("content-type", "text/event-stream"),
        ("content-encoding", "gzip"),
        ("content-length", "10"),
        ("x-request-id", "r"),
    ]


def test_rules_remove_set_add() -> None:
    rules = RequestHeaderRules(set={"x-version": "2"}, add={"x-tag": "b"}, remove=["x-drop"])
    out = apply_header_rules(
        [("X-Version", "1"), ("x-version", "1b"), ("X-Drop", "d"), ("x-tag", "a")], rules
    )
    assert out == [("x-tag", "a"), ("x-version", "2"), ("x-tag", "b")]
    assert apply_header_rules([("A", "1")], None) == [("a", "1")]
    assert apply_header_rules([("x-powered-by", "p")], ResponseHeaderRules(remove=["x-powered-by"])) == []


def test_framing_checks() -> None:
    assert check_request_framing([("Content-Length", "10")], max_body_size=10) == 10
    assert check_request_framing([("Transfer-Encoding", "chunked")]) is None
    assert check_request_framing([("content-length", "5"), ("Content-Length", "5")]) == 5
    for bad in (
        [("Content-Length", "1.5")],
        [("Content-Length", "-1")],
        [("Content-Length", "1"), ("Content-Length", "2")],
        [("Transfer-Encoding", "gzip, chunked")],
        [("Transfer-Encoding", "chunked"), ("Content-Length", "3")],
        [("Content-Type", "a/b"), ("content-type", "c/d")],
    ):
        with pytest.raises(ValidationError):
            check_request_framing(bad)
    with pytest.raises(PayloadTooLargeError):
        check_request_framing([("Content-Length", "11")], max_body_size=10)
