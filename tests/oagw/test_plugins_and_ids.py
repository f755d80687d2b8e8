"""Plugin contexts and Protocols (G-14.3) and GTS ids (G-1.3, G-14.1, G-14.5)."""

from __future__ import annotations

import uuid

import pytest

from fabrikit.kernel.security import Secret, SecurityContext
from fabrikit.modules.oagw.sdk import (
    ALLOW,
    APIKEY_AUTH_ID,
    NOOP_AUTH_ID,
    REQUIRED_HEADERS_GUARD_ID,
    AuthContext,
    AuthPlugin,
    GuardContext,
    GuardPlugin,
    Reject,
    SecretNotFoundError,
    TransformPlugin,
    TransformRequestContext,
    ValidationError,
    canonical_upstream_id,
    parse_route_id,
    parse_secret_ref,
    parse_upstream_id,
    upstream_gts_id,
)


class ApiKey:
    async def authenticate(self, actx: AuthContext) -> None:
        secret = await actx.secret(actx.config["secret_ref"])
        actx.set_header(actx.config["header"], actx.config.get("prefix", "") + secret.reveal())


class RequireHeader:
    async def check_request(self, gctx: GuardContext) -> object:
        return (
            ALLOW if gctx.get_header("x-need") else Reject(status=400, error_code="MISSING", detail="x-need")
        )

    async def check_response(self, gctx: GuardContext) -> object:
        return ALLOW


async def test_auth_context_resolves_refs_with_caller_context() -> None:
    asked: list[str] = []

    async def resolver(name: str) -> Secret:
        asked.append(name)
        return Secret("sk-123")

    headers = [("authorization", "old")]
    actx = AuthContext(
        method="POST",
        path="/v1/chat",
        headers=headers,
        config={"secret_ref": "cred://openai_key", "header": "Authorization", "prefix": "Bearer "},
        security_context=SecurityContext.anonymous(),
        secret_resolver=resolver,
        plugin_id=APIKEY_AUTH_ID,
    )
    plugin = ApiKey()
    assert isinstance(plugin, AuthPlugin)
    await plugin.authenticate(actx)
    assert headers == [("authorization", "Bearer sk-123")]
    assert asked == ["openai_key"]
    assert "sk-123" not in repr(actx)


@pytest.mark.parametrize("ref", ["", "cred://", "cred://a/b", "a b", "x" * 256])
def test_bad_secret_refs(ref: str) -> None:
    with pytest.raises(SecretNotFoundError):
        parse_secret_ref(ref)


async def test_guard_and_transform_protocols() -> None:
    guard = RequireHeader()
    assert isinstance(guard, GuardPlugin)
    assert await guard.check_request(GuardContext(method="GET", path="/", headers=[("X-Need", "1")])) == ALLOW
    rejected = await guard.check_request(GuardContext(method="GET", path="/", headers=[]))
    assert rejected == Reject(status=400, error_code="MISSING", detail="x-need")
    assert not isinstance(guard, TransformPlugin)
    ctx = TransformRequestContext(method="GET", path="/", query=[], headers=[("X-Request-Id", "a")])
    ctx.set_header("x-request-id", "b")
    ctx.add_header("x-extra", "c")
    assert ctx.headers == [("x-request-id", "b"), ("x-extra", "c")]


def test_gts_ids() -> None:
    assert NOOP_AUTH_ID == "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.noop.v1"
    assert REQUIRED_HEADERS_GUARD_ID == "gts.x.core.oagw.guard_plugin.v1~x.core.oagw.required_headers.v1"
    u = uuid.uuid4()
    assert parse_upstream_id(upstream_gts_id(u)) == u
    assert canonical_upstream_id(
        upstream_gts_id(u).upper().replace("GTS.X.CORE.OAGW.UPSTREAM.V1~", "gts.x.core.oagw.upstream.v1~")
    ) == upstream_gts_id(u)
    for bad in (str(u), "gts.x.core.oagw.upstream.v1~nope", "gts.x.core.oagw.route.v1~" + str(u)):
        with pytest.raises(ValidationError):
            parse_upstream_id(bad)
    with pytest.raises(ValidationError):
        parse_route_id(upstream_gts_id(u))
