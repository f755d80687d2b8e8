"""CORS (P-6.3 step 5): preflights answered before auth, headers on every response incl. errors; off by default."""

from __future__ import annotations

from tests.api_gateway.test_chain_order import assert_problem
from tests.support.gateway import AUTH, gateway

ORIGIN = "https://app.example"
PREFLIGHT = {
    "origin": ORIGIN,
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def test_preflight_is_answered_before_auth() -> None:
    async with gateway(
        gw={"cors_enabled": True, "cors": {"allowed_origins": [ORIGIN], "max_age_seconds": 42}}
    ) as h:
        r = await h.http.options("/gw-test/v1/limited", headers=PREFLIGHT)
        assert r.status_code in (200, 204)
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in r.headers["access-control-allow-methods"]
        assert r.headers["access-control-max-age"] == "42"
        assert "authorization" in r.headers["access-control-allow-headers"].lower()
        assert r.headers["x-request-id"]

        bad_origin = await h.http.options(
            "/gw-test/v1/limited", headers={**PREFLIGHT, "origin": "https://evil.example"}
        )
        assert 400 <= bad_origin.status_code < 500
        assert "access-control-allow-origin" not in bad_origin.headers
        assert bad_origin.json()["code"]

        bad_method = await h.http.options(
            "/gw-test/v1/limited", headers={**PREFLIGHT, "access-control-request-method": "TRACE"}
        )
        assert 400 <= bad_method.status_code < 500


async def test_cors_headers_on_success_401_and_404() -> None:
    async with gateway(gw={"cors_enabled": True, "cors": {"allowed_origins": [ORIGIN]}}) as h:
        for path, headers, status in [
            ("/gw-test/v1/whoami", AUTH, 200),
            ("/gw-test/v1/whoami", {}, 401),
            ("/nowhere", {}, 404),
        ]:
            r = await h.http.get(path, headers={**headers, "origin": ORIGIN})
            assert r.status_code == status
            assert r.headers["access-control-allow-origin"] == ORIGIN
            assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
        foreign = await h.http.get("/gw-test/v1/ping", headers={"origin": "https://evil.example"})
        assert foreign.status_code == 200
        assert "access-control-allow-origin" not in foreign.headers


async def test_wildcard_origin_and_credentials() -> None:
    async with gateway(gw={"cors_enabled": True}) as h:
        r = await h.http.get("/gw-test/v1/ping", headers={"origin": "https://any.example"})
        assert r.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers
    cfg = {"cors_enabled": True, "cors": {"allowed_origins": [ORIGIN], "allow_credentials": True}}
    async with gateway(gw=cfg) as h:
        r = await h.http.get("/gw-test/v1/ping", headers={"origin": ORIGIN})
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert r.headers["access-control-allow-credentials"] == "true"
        assert "origin" in r.headers["vary"].lower()


async def test_cors_off_adds_no_headers_and_preflight_is_not_special() -> None:
    async with gateway() as h:
        r = await h.http.get("/gw-test/v1/ping", headers={"origin": ORIGIN})
        assert r.status_code == 200
        assert not [k for k in r.headers if k.lower().startswith("access-control-")]
        pre = await h.http.options("/gw-test/v1/whoami", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in pre.headers
        unauth = await h.http.get("/gw-test/v1/whoami", headers={"origin": ORIGIN})
        assert_problem(unauth, 401, "unauthenticated")
        assert "access-control-allow-origin" not in unauth.headers
