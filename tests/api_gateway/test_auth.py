"""Authentication through the gateway (P-6.5, P-6.6) with the static-authn plugin (P-2.4)."""

from __future__ import annotations

from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, NIL_UUID
from tests.api_gateway.test_chain_order import assert_problem
from tests.support.gateway import AUTH, gateway

TENANT_A = "aaaaaaaa-0000-4000-8000-000000000001"
TENANT_B = "bbbbbbbb-0000-4000-8000-000000000002"
USER_A = "aaaaaaaa-1111-4000-8000-000000000001"
USER_B = "bbbbbbbb-1111-4000-8000-000000000002"
STATIC = {
    "mode": "static_tokens",
    "tokens": [
        {
            "token": "tok-a",
            "identity": {"subject_id": USER_A, "subject_tenant_id": TENANT_A, "token_scopes": ["notes"]},
        },
        {"token": "tok-b", "identity": {"subject_id": USER_B, "subject_tenant_id": TENANT_B}},
    ],
}


async def test_public_and_protected_routes_under_a_prefix_with_path_params() -> None:
    async with gateway(gw={"prefix_path": "//api//v2/"}) as h:
        pub = await h.http.get("/api/v2/gw-test/v1/items/it-1")
        assert pub.status_code == 200
        assert pub.json() == {"id": "it-1"}
        prot = await h.http.get("/api/v2/gw-test/v1/whoami/it-2")
        assert_problem(prot, 401, "unauthenticated")
        ok = await h.http.get("/api/v2/gw-test/v1/whoami/it-2", headers=AUTH)
        assert ok.status_code == 200
        assert ok.json()["id"] == "it-2"
        assert (await h.http.get("/gw-test/v1/items/it-1")).status_code == 404  # only under the prefix


async def test_public_route_runs_with_the_anonymous_context() -> None:
    async with gateway(gw={"require_auth_by_default": True}) as h:
        r = await h.http.get("/gw-test/v1/ping", headers={"Authorization": "Bearer ignored"})
        assert r.status_code == 200


async def test_missing_or_malformed_header_is_401_with_www_authenticate() -> None:
    async with gateway() as h:
        for headers in (
            {},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "Bearer"},
            {"Authorization": "Token abc"},
        ):
            r = await h.http.get("/gw-test/v1/whoami", headers=headers)
            body = assert_problem(r, 401, "unauthenticated")
            assert body["detail"] == "Missing or invalid Authorization header"
            assert r.headers["www-authenticate"] == "Bearer"


async def test_scheme_is_case_insensitive_and_the_token_is_trimmed() -> None:
    async with gateway(authn=STATIC) as h:
        for value in ("bearer tok-a", "BEARER tok-a", "Bearer   tok-a"):
            r = await h.http.get("/gw-test/v1/whoami", headers={"Authorization": value})
            assert r.status_code == 200, value
            assert r.json()["tenant_id"] == TENANT_A


async def test_accept_all_gives_the_default_identity_with_all_scopes() -> None:
    async with gateway() as h:
        r = await h.http.get("/gw-test/v1/whoami", headers={"Authorization": "Bearer anything-at-all"})
        assert r.json() == {
            "subject_id": str(DEFAULT_SUBJECT_ID),
            "tenant_id": str(DEFAULT_TENANT_ID),
            "scopes": ["*"],
            "has_token": True,
            "anonymous": False,
        }


async def test_static_tokens_map_tokens_to_tenants_and_reject_unknown_ones() -> None:
    async with gateway(authn=STATIC) as h:
        a = await h.http.get("/gw-test/v1/whoami", headers={"Authorization": "Bearer tok-a"})
        assert a.json()["subject_id"] == USER_A
        assert a.json()["tenant_id"] == TENANT_A
        assert a.json()["scopes"] == ["notes"]
        assert a.json()["has_token"] is True
        b = await h.http.get("/gw-test/v1/whoami", headers={"Authorization": "Bearer tok-b"})
        assert b.json()["tenant_id"] == TENANT_B
        assert b.json()["scopes"] == ["*"]

        unknown = await h.http.get("/gw-test/v1/whoami", headers={"Authorization": "Bearer tok-c"})
        body = assert_problem(unknown, 401, "unauthenticated")
        assert body["detail"] == "Authentication failed"
        assert unknown.headers["www-authenticate"] == "Bearer"
        assert "tok-c" not in unknown.text


async def test_tenant_isolation_of_a_per_tenant_resource() -> None:
    async with gateway(authn=STATIC) as h:
        a = {"Authorization": "Bearer tok-a", "content-type": "application/json"}
        b = {"Authorization": "Bearer tok-b"}
        created = await h.http.post("/gw-test/v1/notes", content=b'{"text": "for A only"}', headers=a)
        assert created.status_code == 201
        note_id = created.json()["id"]
        own = await h.http.get(f"/gw-test/v1/notes/{note_id}", headers=a)
        assert own.status_code == 200
        assert own.json()["text"] == "for A only"
        other = await h.http.get(f"/gw-test/v1/notes/{note_id}", headers=b)
        assert_problem(other, 404, "note_not_found")
        assert "for A only" not in other.text


async def test_no_authn_plugin_is_503() -> None:
    async with gateway(plugins={"static-authn": {"enabled": False}}) as h:
        r = await h.http.get("/gw-test/v1/whoami", headers=AUTH)
        assert_problem(r, 503, "authn_unavailable")
        assert (await h.http.get("/gw-test/v1/ping")).status_code == 200  # public routes need no authn


async def test_auth_disabled_gives_the_default_context_without_reading_the_header() -> None:
    async with gateway(gw={"auth_disabled": True}) as h:
        for headers in ({}, {"Authorization": "Basic nonsense"}, AUTH):
            r = await h.http.get("/gw-test/v1/whoami", headers=headers)
            assert r.status_code == 200
            assert r.json() == {
                "subject_id": str(DEFAULT_SUBJECT_ID),
                "tenant_id": str(DEFAULT_TENANT_ID),
                "scopes": [],
                "has_token": False,
                "anonymous": False,
            }
        assert str(NIL_UUID) not in r.text
