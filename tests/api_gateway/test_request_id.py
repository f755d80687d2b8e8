"""Request id and trace id (P-6.3 step 1, P-6.3.5, K-11.4): kept when valid, generated otherwise, echoed always."""

from __future__ import annotations

import re

from tests.support.gateway import AUTH, gateway

GENERATED = re.compile(r"^[A-Za-z0-9_-]{21}$")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_valid_request_id_is_kept_and_echoed_on_success_error_and_404() -> None:
    async with gateway() as h:
        ok = await h.http.get("/gw-test/v1/ping", headers={"x-request-id": "abc.DEF_1:2-3"})
        assert ok.status_code == 200
        assert ok.headers["x-request-id"] == "abc.DEF_1:2-3"

        err = await h.http.get("/gw-test/v1/whoami", headers={"x-request-id": "req-401"})
        assert err.status_code == 401
        assert err.headers["x-request-id"] == "req-401"
        assert err.json()["trace_id"] == "req-401"

        missing = await h.http.get("/nowhere", headers={"x-request-id": "req-404"})
        assert missing.status_code == 404
        assert missing.headers["x-request-id"] == "req-404"
        assert missing.json()["trace_id"] == "req-404"
        assert missing.json()["code"] == "not_found"

        crash = await h.http.get("/gw-test/v1/boom", headers={**AUTH, "x-request-id": "req-500"})
        assert crash.status_code == 500
        assert crash.headers["x-request-id"] == "req-500"
        assert crash.json()["trace_id"] == "req-500"


async def test_invalid_or_missing_request_id_is_replaced_by_a_generated_one() -> None:
    async with gateway() as h:
        for sent in (None, "", "has space", "x" * 129, "semi;colon", "\u00fc".encode("latin-1")):
            headers = {} if sent is None else {"x-request-id": sent}
            r = await h.http.get("/nowhere", headers=headers)
            rid = r.headers["x-request-id"]
            assert rid != sent
            assert GENERATED.match(rid), rid
            assert r.json()["trace_id"] == rid
        longest = "y" * 128
        r = await h.http.get("/gw-test/v1/ping", headers={"x-request-id": longest})
        assert r.headers["x-request-id"] == longest
        a = await h.http.get("/gw-test/v1/ping")
        b = await h.http.get("/gw-test/v1/ping")
        assert a.headers["x-request-id"] != b.headers["x-request-id"]


async def test_problem_trace_id_is_the_traceparent_trace_id_when_valid() -> None:
    async with gateway() as h:
        r = await h.http.get("/nowhere", headers={"x-request-id": "rid-1", "traceparent": TRACEPARENT})
        assert r.headers["x-request-id"] == "rid-1"
        assert r.json()["trace_id"] == TRACE_ID

        r = await h.http.get(
            "/gw-test/v1/whoami", headers={"x-request-id": "rid-2", "traceparent": TRACEPARENT}
        )
        assert r.status_code == 401
        assert r.json()["trace_id"] == TRACE_ID

        bad = "00-" + "0" * 32 + "-00f067aa0ba902b7-01"  # all-zero trace id is invalid
        for traceparent in (bad, "garbage", "00-xyz-00f067aa0ba902b7-01"):
            r = await h.http.get("/nowhere", headers={"x-request-id": "rid-3", "traceparent": traceparent})
            assert r.json()["trace_id"] == "rid-3"
