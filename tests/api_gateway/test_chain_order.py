"""Middleware order and limits (P-6.3, P-6.3.1, P-6.3.2): content type, body limit, rate limit, in-flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.support.gateway import AUTH, gateway, module_instance

ORIGIN = "https://app.example"
CORS = {"cors_enabled": True, "cors": {"allowed_origins": [ORIGIN]}}
JSON = {**AUTH, "content-type": "application/json", "origin": ORIGIN}
RATE_HEADERS = (
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
)


def assert_problem(r: object, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    assert body["status"] == status
    assert body["trace_id"]
    return body


async def test_415_keeps_cors_and_request_id_and_uses_no_rate_token() -> None:
    async with gateway(gw=CORS) as h:
        url = "/gw-test/v1/limited"
        r = await h.http.post(
            url, content=b"x", headers={**JSON, "content-type": "text/plain", "x-request-id": "r415"}
        )
        body = assert_problem(r, 415, "unsupported_media_type")
        assert "application/json" in body["detail"]
        assert r.headers["x-request-id"] == "r415"
        assert r.headers["access-control-allow-origin"] == ORIGIN

        missing = await h.http.post(url, content=b"{}", headers={"origin": ORIGIN, **AUTH})
        body = assert_problem(missing, 415, "unsupported_media_type")
        assert body["detail"] == "Missing Content-Type header. Allowed types: application/json"

        # rps 1 / burst 1: the 415s above took no token, so one call passes and the next is limited
        ok = await h.http.post(
            url, content=b"{}", headers={**JSON, "content-type": "Application/JSON; charset=utf-8"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.headers["ratelimit-limit"] == "1"
        assert ok.headers["ratelimit-remaining"] == "0"

        limited = await h.http.post(url, content=b"{}", headers=JSON)
        assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        for name in RATE_HEADERS:
            assert name in limited.headers, name
        assert limited.headers["x-ratelimit-limit"] == "1"
        assert limited.headers["access-control-allow-origin"] == ORIGIN
        exposed = limited.headers["access-control-expose-headers"].lower()
        for name in (*RATE_HEADERS, "retry-after", "x-request-id"):
            assert name in exposed, name


async def test_413_by_content_length_is_answered_before_auth_and_uses_no_token() -> None:
    async with gateway(gw={**CORS, "defaults": {"body_limit_bytes": 1000}}) as h:
        url = "/gw-test/v1/limited"
        big = b"[" + b"0," * 600 + b"0]"
        r = await h.http.post(
            url, content=big, headers={"content-type": "application/json", "origin": ORIGIN}
        )
        body = assert_problem(r, 413, "payload_too_large")
        assert "1000" in body["detail"]
        assert r.headers["access-control-allow-origin"] == ORIGIN  # the body limit sits inside CORS
        assert (await h.http.post(url, content=b"{}", headers=JSON)).status_code == 200
        assert (await h.http.post(url, content=b"{}", headers=JSON)).status_code == 429


async def test_413_for_a_chunked_body_over_the_limit() -> None:
    async with gateway(gw={"defaults": {"body_limit_bytes": 1000}}) as h:

        async def chunks(n: int) -> AsyncIterator[bytes]:
            for _ in range(n):
                yield b"a" * 300

        r = await h.http.post("/gw-test/v1/upload", content=chunks(5), headers=AUTH)
        assert "content-length" not in r.request.headers
        assert_problem(r, 413, "payload_too_large")
        ok = await h.http.post("/gw-test/v1/upload", content=chunks(3), headers=AUTH)
        assert ok.status_code == 200
        assert ok.json() == {"size": 900}


async def test_per_operation_body_limit() -> None:
    async with gateway() as h:
        headers = {**AUTH, "content-type": "application/json"}
        ok = await h.http.post("/gw-test/v1/small", content=b'"12345678"', headers=headers)  # 10 bytes
        assert ok.status_code == 200
        assert ok.json() == {"size": 10}
        r = await h.http.post("/gw-test/v1/small", content=b'"123456789"', headers=headers)  # 11 bytes
        assert_problem(r, 413, "payload_too_large")
        # the default limit (16 MiB) still applies to the other operations
        assert (await h.http.post("/gw-test/v1/upload", content=b"x" * 5000, headers=AUTH)).status_code == 200


async def test_in_flight_limit_answers_503_with_retry_after_and_rate_headers() -> None:
    async with gateway(gw=CORS) as h:
        test = module_instance(h, "gw-test")
        first = asyncio.ensure_future(h.http.get("/gw-test/v1/busy", headers=AUTH))
        try:
            await test.busy_entered.wait()  # the first request holds the only permit
            second = await h.http.get("/gw-test/v1/busy", headers={**AUTH, "origin": ORIGIN})
            assert_problem(second, 503, "concurrency_limited")
            assert second.headers["retry-after"] == "1"
            for name in RATE_HEADERS:
                assert name in second.headers, name
            assert second.headers["access-control-allow-origin"] == ORIGIN
        finally:
            test.busy_release.set()
        assert (await first).status_code == 200
        assert (await h.http.get("/gw-test/v1/busy", headers=AUTH)).status_code == 200


async def test_successful_limited_calls_report_remaining_tokens() -> None:
    async with gateway() as h:
        r = await h.http.get("/gw-test/v1/whoami", headers=AUTH)
        assert r.status_code == 200
        assert r.headers["ratelimit-limit"] == "100"  # defaults: burst 100
        assert r.headers["x-ratelimit-limit"] == "100"
        assert int(r.headers["ratelimit-remaining"]) == 99
        unauth = await h.http.get("/gw-test/v1/whoami")
        assert unauth.status_code == 401
        assert "ratelimit-remaining" in unauth.headers
