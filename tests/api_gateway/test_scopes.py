"""Route scope rules (P-6.7): first match decides, `*` passes, one required scope suffices, public match → 401."""

from __future__ import annotations

from typing import Any

from tests.api_gateway.test_chain_order import assert_problem
from tests.support.gateway import UsersAndCities, gateway

USERS = ["users:read", "users:admin"]
RULES = {
    "enabled": True,
    "rules": [
        {"path": "/users-info/v1/users", "required_scopes": USERS},
        {"path": "/users-info/v1/users/*", "required_scopes": USERS},
        {"path": "/cities", "required_scopes": ["cities:admin"]},
        {"path": "/public-ruled", "required_scopes": ["anything"]},
    ],
}


def _token(name: str, scopes: list[str], n: int) -> dict[str, Any]:
    return {
        "token": name,
        "identity": {
            "subject_id": f"00000000-0000-4000-8000-{n:012d}",
            "subject_tenant_id": "00000000-0000-4000-9000-000000000001",
            "token_scopes": scopes,
        },
    }


AUTHN = {
    "mode": "static_tokens",
    "tokens": [
        _token("star", ["*"], 1),
        _token("reader", ["users:read"], 2),
        _token("admin", ["users:admin"], 3),
        _token("other", ["billing:read"], 4),
        _token("none", [], 5),
        _token("cities", ["cities:admin"], 6),
    ],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _status(h: Any, path: str, token: str | None) -> int:
    r = await h.http.get(path, headers=bearer(token) if token else {})
    if r.status_code == 403:
        body = assert_problem(r, 403, "insufficient_scopes")
        assert body["detail"] == "Insufficient token scopes for this resource"
    return int(r.status_code)


async def test_scope_rules_checklist() -> None:
    async with gateway([UsersAndCities], gw={"route_policies": RULES}, authn=AUTHN) as h:
        expected = {
            ("/users-info/v1/users", "star"): 200,
            ("/users-info/v1/users", "reader"): 200,
            ("/users-info/v1/users", "admin"): 200,
            ("/users-info/v1/users", "other"): 403,
            ("/users-info/v1/users", "none"): 403,
            ("/users-info/v1/users/42", "reader"): 200,
            ("/users-info/v1/users/42", "admin"): 200,
            ("/users-info/v1/users/42", "other"): 403,
            ("/users-info/v1/users/42", "cities"): 403,
            # `/*` is exactly one segment: the roles path matches no rule and passes
            ("/users-info/v1/users/42/roles", "other"): 200,
            ("/users-info/v1/users/42/roles", "none"): 200,
            ("/cities", "cities"): 200,
            ("/cities", "star"): 200,
            ("/cities", "reader"): 403,
            ("/cities", "admin"): 403,
            ("/open", "other"): 200,
            ("/open", "none"): 200,
            ("/users-info/v1/users", None): 401,
            ("/users-info/v1/users", "unknown-token"): 401,
            ("/cities", None): 401,
        }
        actual = {key: await _status(h, *key) for key in expected}
        assert actual == expected


async def test_a_rule_matching_a_public_operation_is_401() -> None:
    async with gateway([UsersAndCities], gw={"route_policies": RULES}, authn=AUTHN) as h:
        r = await h.http.get("/public-ruled", headers=bearer("star"))
        body = assert_problem(r, 401, "unauthenticated")
        assert body["detail"] == "Authentication required for this resource"
        assert r.headers["www-authenticate"] == "Bearer"


async def test_rules_see_the_path_without_prefix_case_insensitively_and_by_method() -> None:
    policies = {
        "enabled": True,
        "rules": [
            {"path": "/CITIES", "method": "get", "required_scopes": ["cities:admin"]},
            {"path": "/users-info/**", "method": "POST", "required_scopes": ["never"]},
        ],
    }
    async with gateway(
        [UsersAndCities], gw={"prefix_path": "/api", "route_policies": policies}, authn=AUTHN
    ) as h:
        assert await _status(h, "/api/cities", "reader") == 403
        assert await _status(h, "/api/cities", "cities") == 200
        assert await _status(h, "/api/users-info/v1/users/1/roles", "none") == 200  # rule is POST only
