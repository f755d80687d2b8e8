"""Timeout, error guard and problem mapping (P-6.3 steps 3–4, P-0.6, K-11.2, K-11.3)."""

from __future__ import annotations

import asyncio

from tests.api_gateway.test_chain_order import assert_problem
from tests.support.gateway import AUTH, gateway

JSON = {**AUTH, "content-type": "application/json"}


async def test_slow_handler_gets_504_but_a_stream_outliving_the_timeout_is_not_cut() -> None:
    async with gateway(gw={"defaults": {"timeout_s": 0.3}}) as h:
        r = await h.http.get("/gw-test/v1/slow", headers={**AUTH, "x-request-id": "slow-1"})
        body = assert_problem(r, 504, "gateway_timeout")
        assert r.headers["x-request-id"] == "slow-1"
        assert body["trace_id"] == "slow-1"

        # 8 ticks 0.1 s apart: the stream lasts well beyond timeout_s once its head went out
        s = await h.http.get("/gw-test/v1/stream", params={"ticks": 8, "interval": 0.1}, headers=AUTH)
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        data = [line[len("data: ") :] for line in s.text.splitlines() if line.startswith("data: ")]
        assert data == [f"tick {i}" for i in range(8)] + ["done"]


async def test_an_operation_timeout_overrides_the_default_both_ways() -> None:
    async with gateway(gw={"defaults": {"timeout_s": 0.4}}) as h:
        loop = asyncio.get_running_loop()
        started = loop.time()
        r = await h.http.get("/gw-test/v1/slow-short", headers=AUTH)  # timeout_s=0.2 < default
        elapsed = loop.time() - started
        assert_problem(r, 504, "gateway_timeout")
        assert 0.2 <= elapsed < 0.4, elapsed  # its own deadline, not the default's

        r = await h.http.get("/gw-test/v1/unhurried", params={"seconds": 0.7}, headers=AUTH)  # timeout_s=0
        assert r.status_code == 200, r.text
        assert r.json() == {"slept": 0.7}


async def test_unhandled_exception_is_a_generic_500_problem() -> None:
    async with gateway() as h:
        r = await h.http.get("/gw-test/v1/boom", headers=AUTH)
        body = assert_problem(r, 500, "internal_error")
        assert "s3cr3t" not in r.text
        assert "kaboom" not in r.text
        assert body["detail"] == "An internal error occurred."


async def test_malformed_json_is_400_invalid_json() -> None:
    async with gateway() as h:
        r = await h.http.post("/gw-test/v1/items", content=b"{bad", headers=JSON)
        assert_problem(r, 400, "invalid_json")


async def test_validation_failure_is_400_validation_error_with_field_errors() -> None:
    async with gateway() as h:
        r = await h.http.post("/gw-test/v1/items", content=b'{"name": 5}', headers=JSON)
        body = assert_problem(r, 400, "validation_error")
        errors = body["errors"]
        assert errors, body
        codes = {e["code"] for e in errors}
        assert codes <= {"missing_field", "unknown_field", "invalid_type", "invalid_value"}
        assert all(set(e) == {"field", "message", "code"} for e in errors)
        assert any(e["code"] == "invalid_type" and e["field"] == "name" for e in errors) or any(
            e["code"] == "missing_field" and e["field"] == "count" for e in errors
        )

        r = await h.http.post("/gw-test/v1/items", content=b'{"name": "a"}', headers=JSON)
        errors = assert_problem(r, 400, "validation_error")["errors"]
        assert {k: errors[0][k] for k in ("field", "code")} == {"field": "count", "code": "missing_field"}

        ok = await h.http.post("/gw-test/v1/items", content=b'{"name": "a", "count": 2}', headers=JSON)
        assert ok.status_code == 200
        assert ok.json() == {"name": "a", "count": 2}


async def test_every_gateway_error_is_problem_json_with_a_code() -> None:
    async with gateway(gw={"defaults": {"body_limit_bytes": 100}}) as h:
        cases = [
            ("GET", "/nowhere", {}, None, 404),
            ("DELETE", "/gw-test/v1/ping", {}, None, 405),
            ("GET", "/gw-test/v1/whoami", {}, None, 401),
            ("GET", "/gw-test/v1/whoami", {"Authorization": "Basic abc"}, None, 401),
            ("POST", "/gw-test/v1/upload", AUTH, b"x" * 101, 413),
            ("POST", "/gw-test/v1/limited", {**AUTH, "content-type": "text/csv"}, b"x", 415),
            ("GET", "/gw-test/v1/scoped", {"Authorization": "Bearer t"}, None, 200),
        ]
        for method, path, headers, body, status in cases:
            r = await h.http.request(method, path, headers=headers, content=body)
            assert r.status_code == status, (method, path, r.status_code, r.text)
            if status >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), (path, r.headers)
                assert r.json()["code"]
                assert r.json()["status"] == status


async def test_405_carries_allow() -> None:
    async with gateway() as h:
        r = await h.http.delete("/gw-test/v1/ping")
        assert_problem(r, 405, "method_not_allowed")
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert "GET" in allowed
        assert "DELETE" not in allowed
