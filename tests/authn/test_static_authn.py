"""authn-resolver with the static-authn plugin (P-2.4, P-2.5), through the real runtime and ClientHub."""

from __future__ import annotations

import tempfile
from typing import Any
from uuid import UUID

import msgspec
import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, StartupError
from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, Secret
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authn_resolver.sdk import (
    AUTHN_PLUGIN_SPEC_ID,
    AuthnResolverClient,
    ClientCredentialsRequest,
    NoPluginAvailable,
    ServiceUnavailable,
    TokenAcquisitionFailed,
    Unauthorized,
)
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.modules.types_registry.sdk import TypesRegistryClient
from fabrikit.plugins.static_authn.plugin import DEFINITION, INSTANCE_ID, StaticAuthnConfig

TENANT = UUID("aaaaaaaa-0000-4000-8000-000000000001")
USER = UUID("aaaaaaaa-1111-4000-8000-000000000001")
SVC = UUID("cccccccc-1111-4000-8000-000000000003")
STATIC: dict[str, Any] = {
    "mode": "static_tokens",
    "tokens": [
        {
            "token": "tok-alpha-secret",
            "identity": {
                "subject_id": str(USER),
                "subject_tenant_id": str(TENANT),
                "token_scopes": ["read", "write"],
                "subject_type": "user",
            },
        }
    ],
    "s2s_credentials": [
        {
            "client_id": "svc-1",
            "client_secret": "cs-very-secret",
            "identity": {"subject_id": str(SVC), "subject_tenant_id": str(TENANT), "subject_type": "service"},
        }
    ],
}


def harness(
    authn: dict[str, Any] | None = None,
    *,
    vendor: str | None = None,
    modules: list[type[Module]] | None = None,
    home: str | None = None,
) -> RuntimeHarness:
    extra = modules or []
    config: dict[str, Any] = {
        "modules": {
            "types-registry": None,
            "api-gateway": {"config": {"bind_addr": "127.0.0.1:0"}},  # types-registry is a rest module
            "authn-resolver": {"config": {"vendor": vendor}} if vendor else None,
            **{m.manifest.name: None for m in extra},
        },
        "plugins": {"static-authn": {"config": authn or {}}},
        "logging": {"level": "warning"},
    }
    return RuntimeHarness(
        modules=[TypesRegistryModule, AuthnResolver, ApiGateway, *extra],
        plugins=[DEFINITION],
        config=config,
        home=home,
    )


def client(h: RuntimeHarness) -> AuthnResolverClient:
    return h.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]


async def test_accept_all_gives_the_default_identity_and_keeps_the_token() -> None:
    async with harness() as h:
        for token in ("a", "anything at all", "x" * 2000):
            ctx = (await client(h).authenticate(token)).security_context
            assert ctx.subject_id == DEFAULT_SUBJECT_ID
            assert ctx.subject_tenant_id == DEFAULT_TENANT_ID
            assert ctx.token_scopes == ("*",)
            assert ctx.subject_type is None
            assert ctx.bearer_token is not None
            assert ctx.bearer_token.reveal() == token.strip()
        for empty in ("", "   "):
            with pytest.raises(Unauthorized):
                await client(h).authenticate(empty)


async def test_accept_all_warns_once_at_startup() -> None:
    with capture_logs() as logs:
        async with harness():
            pass
    warnings = [e for e in logs if e["event"] == "authn_accept_all"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"


async def test_static_tokens_known_unknown_and_the_token_is_kept() -> None:
    async with harness(STATIC) as h:
        ctx = (await client(h).authenticate("tok-alpha-secret")).security_context
        assert (ctx.subject_id, ctx.subject_tenant_id) == (USER, TENANT)
        assert ctx.token_scopes == ("read", "write")
        assert ctx.subject_type == "user"
        assert ctx.bearer_token is not None
        assert ctx.bearer_token.reveal() == "tok-alpha-secret"
        for wrong in ("tok-alpha-secreT", "tok-alpha", "tok-alpha-secret-x", "other", ""):
            with pytest.raises(Unauthorized) as info:
                await client(h).authenticate(wrong)
            if wrong:
                assert wrong not in str(info.value)


async def test_client_credentials() -> None:
    async with harness(STATIC) as h:
        ok = await client(h).exchange_client_credentials(
            ClientCredentialsRequest("svc-1", Secret("cs-very-secret"), scopes=("ignored",))
        )
        ctx = ok.security_context
        assert (ctx.subject_id, ctx.subject_tenant_id, ctx.subject_type) == (SVC, TENANT, "service")
        assert ctx.bearer_token is None
        for request in (
            ClientCredentialsRequest("svc-unknown", Secret("cs-very-secret")),
            ClientCredentialsRequest("svc-1", Secret("wrong")),
            ClientCredentialsRequest("svc-1", Secret("")),
        ):
            with pytest.raises(TokenAcquisitionFailed) as info:
                await client(h).exchange_client_credentials(request)
            assert "cs-very-secret" not in str(info.value)
            assert "wrong" not in str(info.value)


async def test_no_secret_in_repr_logs_or_to_dict() -> None:
    cfg = msgspec.convert(
        STATIC, StaticAuthnConfig, strict=False, dec_hook=lambda t, v: t(v) if t is Secret else v
    )
    for text in (repr(cfg), str(cfg)):
        assert "tok-alpha-secret" not in text
        assert "cs-very-secret" not in text
    request = ClientCredentialsRequest("svc-1", Secret("cs-very-secret"))
    assert "cs-very-secret" not in repr(request)
    with capture_logs() as logs:
        async with harness(STATIC) as h:
            ctx = (await client(h).authenticate("tok-alpha-secret")).security_context
            assert "tok-alpha-secret" not in repr(ctx)
            assert "tok-alpha-secret" not in str(ctx.to_dict())
            assert "bearer_token" not in ctx.to_dict()
            with pytest.raises((TypeError, msgspec.EncodeError)):
                msgspec.json.encode(ctx.bearer_token)
            with pytest.raises(Unauthorized):
                await client(h).authenticate("tok-wrong-secret")
            ok = await client(h).exchange_client_credentials(request)
            assert "cs-very-secret" not in repr(ok)
            with pytest.raises(TokenAcquisitionFailed):
                await client(h).exchange_client_credentials(
                    ClientCredentialsRequest("svc-1", Secret("cs-wrong-x"))
                )
            assert "tok-alpha-secret" not in repr(h.config)
    text = repr(logs)
    for secret in ("tok-alpha-secret", "cs-very-secret", "tok-wrong-secret", "cs-wrong-x"):
        assert secret not in text


async def test_wrong_vendor_is_no_plugin_available() -> None:
    async with harness(vendor="acme") as h:
        with pytest.raises(NoPluginAvailable):
            await client(h).authenticate("tok")


GHOST_ID = AUTHN_PLUGIN_SPEC_ID + "ghost.test.authn.plugin.v1"


class GhostPlugin(Module):
    """Registers an authn plugin instance of vendor 'ghost' whose client never reaches the hub."""

    manifest = Manifest("ghost-plugin", "0.1.0", deps=("types-registry",), capabilities={Capability.SYSTEM})

    async def init(self, ctx: ModuleContext) -> None:
        registry = ctx.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        await registry.register([{"id": GHOST_ID, "vendor": "ghost", "priority": 1, "properties": {}}])


async def test_a_plugin_without_client_is_service_unavailable_and_not_cached() -> None:
    async with harness(vendor="ghost", modules=[GhostPlugin]) as h:
        for _ in range(2):  # the failure is not cached: every call selects again
            with pytest.raises(ServiceUnavailable):
                await client(h).authenticate("tok")


class EarlyCaller(Module):
    """Calls authn while the registry is not ready yet (init): the failure must not stick."""

    manifest = Manifest("early-caller", "0.1.0", deps=("authn-resolver",))

    def __init__(self) -> None:
        self.early: BaseException | None = None

    async def init(self, ctx: ModuleContext) -> None:
        try:
            await ctx.hub.get(AuthnResolverClient).authenticate("tok")  # type: ignore[type-abstract]
        except Exception as exc:
            self.early = exc


async def test_unavailable_before_ready_then_retry_succeeds() -> None:
    async with harness(modules=[EarlyCaller]) as h:
        early = h.runtime.modules["early-caller"].early  # type: ignore[attr-defined]
        assert isinstance(early, ServiceUnavailable)
        ctx = (await client(h).authenticate("tok")).security_context
        assert ctx.subject_id == DEFAULT_SUBJECT_ID


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"mode": "static_tokens", "tokens": [{"token": "a"}, {"token": "a"}]}, "duplicate token"),
        (
            {
                "s2s_credentials": [
                    {"client_id": "c", "client_secret": "s1"},
                    {"client_id": "c", "client_secret": "s2"},
                ]
            },
            "duplicate client_id",
        ),
        ({"default_identity": {"subject_id": "00000000-0000-0000-0000-000000000000"}}, "nil UUID"),
        ({"mode": "bogus"}, "mode"),
    ],
)
async def test_startup_rejects_bad_plugin_config(config: dict[str, Any], needle: str) -> None:
    with tempfile.TemporaryDirectory() as home, pytest.raises(StartupError) as info:
        async with harness(config, home=home):
            pass
    assert needle in str(info.value)
    assert "s1" not in str(info.value) or "client_id" in needle


def test_instance_id_and_spec() -> None:
    assert INSTANCE_ID == (
        "gts.x.core.modkit.plugin.v1~x.core.authn_resolver.plugin.v1~hyperspot.builtin.static_authn_resolver.plugin.v1"
    )
    assert DEFINITION.host == "authn-resolver"
