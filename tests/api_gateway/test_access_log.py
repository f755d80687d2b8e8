"""Access log (P-6.3 step 2, P-6.3.4): one line per request when the body ends; never query strings or tokens."""

from __future__ import annotations

from structlog.testing import capture_logs

from tests.support.gateway import gateway

SECRET_TOKEN = "tok-very-secret-123"
QUERY_SECRET = "api_key_in_query_456"
AUTHN = {
    "mode": "static_tokens",
    "tokens": [
        {
            "token": SECRET_TOKEN,
            "identity": {
                "subject_id": "aaaaaaaa-1111-4000-8000-000000000001",
                "subject_tenant_id": "aaaaaaaa-0000-4000-8000-000000000001",
            },
        }
    ],
}


async def test_access_log_has_no_query_string_and_no_secret() -> None:
    async with gateway(authn=AUTHN) as h:
        with capture_logs() as logs:
            ok = await h.http.get(
                "/gw-test/v1/whoami",
                params={"token": QUERY_SECRET},
                headers={
                    "Authorization": f"Bearer {SECRET_TOKEN}",
                    "x-request-id": "log-1",
                    "user-agent": "ua/1",
                },
            )
            assert ok.status_code == 200
            bad = await h.http.get(
                "/gw-test/v1/whoami",
                params={"token": QUERY_SECRET},
                headers={"Authorization": "Bearer wrong-secret-789"},
            )
            assert bad.status_code == 401
        access = [e for e in logs if e["event"] == "http_request"]
        assert len(access) == 2
        first = access[0]
        assert first["method"] == "GET"
        assert first["path"] == "/gw-test/v1/whoami"
        assert first["status"] == 200
        assert first["bytes_out"] == len(ok.content)
        assert first["bytes_in"] == 0
        assert first["duration_ms"] >= 0
        assert first["remote_addr"] == "127.0.0.1"
        assert first["user_agent"] == "ua/1"
        assert first["subject_id"] == "aaaaaaaa-1111-4000-8000-000000000001"
        assert first["tenant_id"] == "aaaaaaaa-0000-4000-8000-000000000001"
        assert access[1]["status"] == 401
        text = repr(logs)
        for secret in (SECRET_TOKEN, QUERY_SECRET, "wrong-secret-789", "token="):
            assert secret not in text


async def test_a_stream_is_logged_once_when_its_body_ends() -> None:
    async with gateway() as h:
        with capture_logs() as logs:
            r = await h.http.get(
                "/gw-test/v1/stream",
                params={"ticks": 3, "interval": 0.01},
                headers={"Authorization": "Bearer x"},
            )
            assert r.status_code == 200
        access = [e for e in logs if e["event"] == "http_request"]
        assert len(access) == 1
        assert access[0]["status"] == 200
        assert access[0]["bytes_out"] == len(r.content)


async def test_an_error_is_logged_with_its_status_and_the_cause_only_in_the_error_log() -> None:
    async with gateway() as h:
        with capture_logs() as logs:
            r = await h.http.get("/gw-test/v1/boom", headers={"Authorization": "Bearer x"})
        assert r.status_code == 500
        access = [e for e in logs if e["event"] == "http_request"]
        assert [e["status"] for e in access] == [500]
        assert any(e["log_level"] == "error" for e in logs if e["event"] != "http_request")
