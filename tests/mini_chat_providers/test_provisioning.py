"""Provisioning at start (CI-1.3): service identity, upstreams and routes for providers and tenant overrides."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from fabrikit.kernel.security import Secret
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient, TokenAcquisitionFailed
from fabrikit.modules.mini_chat.config import ClientCredentials
from fabrikit.modules.mini_chat.domain.provider_events import Completed
from fabrikit.modules.mini_chat.infra.providers import ProviderResolver, provision_providers, service_context
from fabrikit.modules.mock_llm import MockLlmServer

from .support import OTHER_KEY, collect, provider_entry, provider_env, request, responses_body

pytestmark = pytest.mark.timeout(60)

TENANT_B = UUID("0b000000-0000-4000-8000-00000000000b")


def with_override(port: int) -> dict[str, object]:
    override = {
        "upstream_alias": "mock-llm-tenant-b",
        "auth_config": {"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://other-key"},
    }
    return {
        "mock": msgspec.structs.replace(
            provider_entry(port),
            tenant_overrides={str(TENANT_B): msgspec.convert(override, type=_override_type())},
        )
    }


def _override_type() -> type:
    from fabrikit.modules.mini_chat.config import TenantOverride

    return TenantOverride


async def test_provisioning_is_idempotent_and_covers_tenant_overrides(mock_llm: MockLlmServer) -> None:
    providers = with_override(mock_llm.port)
    async with provider_env(mock_llm, providers) as env:  # type: ignore[arg-type]
        first = await provision_providers(env.oagw, env.ctx, env.resolver)
        second = await provision_providers(env.oagw, env.ctx, ProviderResolver(providers))  # type: ignore[arg-type]
        upstreams = await env.oagw.list_upstreams(env.ctx)
        routes = {u.alias: await env.oagw.list_routes(env.ctx, upstream_id=u.id) for u in upstreams}
        override_events, _ = await collect(env, request(responses_body("hello b"), tenant_id=TENANT_B))
    assert [p.upstream.id for p in first] == [p.upstream.id for p in second]
    assert [[r.id for r in p.routes] for p in first] == [[r.id for r in p.routes] for p in second]
    assert sorted(u.alias for u in upstreams) == ["mock-llm", "mock-llm-tenant-b"]
    for alias in ("mock-llm", "mock-llm-tenant-b"):
        paths = sorted(r.http.path for r in routes[alias])
        assert paths == ["/v1/files", "/v1/responses", "/v1/vector_stores"], alias
    # The override upstream answers (it has routes) and uses its own credential.
    assert isinstance(override_events[-1], Completed)
    assert mock_llm.requests("/v1/responses")[-1]["headers"]["Authorization"] == f"Bearer {OTHER_KEY}"


async def test_changed_config_replaces_in_place(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        before = await env.oagw.list_upstreams(env.ctx)
        changed = provider_entry(
            mock_llm.port,
            auth_config={"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://other-key"},
        )
        await provision_providers(env.oagw, env.ctx, ProviderResolver({"mock": changed}))
        after = await env.oagw.list_upstreams(env.ctx)
    assert [u.id for u in before] == [u.id for u in after]
    assert after[0].auth is not None
    assert after[0].auth.config["secret_ref"] == "cred://other-key"


async def test_service_context_needs_valid_client_credentials(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        authn: AuthnResolverClient = env.h.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]
        with pytest.raises(TokenAcquisitionFailed):
            await service_context(
                authn, ClientCredentials(client_id="mini-chat", client_secret=Secret("wrong"))
            )
    assert env.ctx.subject_tenant_id is not None
