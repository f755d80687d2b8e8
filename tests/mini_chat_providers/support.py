"""A real runtime for the provider adapters: oagw (with the apikey auth plugin), static authn/authz/credstore,
single tenant, on a headless REST host, routing to a mock-llm server on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import msgspec

from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.mini_chat.config import ClientCredentials, ProviderEntry
from fabrikit.modules.mini_chat.domain.ports import DispatchState, ProviderPort, ProviderRequest
from fabrikit.modules.mini_chat.domain.provider_events import FileRef, ProviderEvent
from fabrikit.modules.mini_chat.infra.providers import (
    OagwProviders,
    ProviderResolver,
    provision_providers,
    service_context,
)
from fabrikit.modules.mock_llm import MockLlmServer
from fabrikit.modules.oagw.module import Oagw
from fabrikit.modules.oagw.sdk import OagwClient
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.oagw_auth.plugin import DEFINITIONS as OAGW_AUTH
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE

from ..authz.headless import HeadlessRestHost

MOCK_KEY = "sk-mock-canary-7f3a9b2c4d5e6f70"
OTHER_KEY = "sk-other-canary-1a2b3c4d5e6f7081"
CLIENT_SECRET = "mini-chat-test-secret"
APIKEY = "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1"
TENANT = DEFAULT_TENANT_ID
USER = DEFAULT_SUBJECT_ID


def provider_entry(port: int, **fields: Any) -> ProviderEntry:
    """The C-20 default ``mock`` entry, pointed at ``port``."""
    raw: dict[str, Any] = {
        "kind": "openai_responses",
        "host": "127.0.0.1",
        "port": port,
        "use_http": True,
        "upstream_alias": "mock-llm",
        "api_path": "/v1/responses",
        "storage_kind": "openai",
        "auth_plugin_type": APIKEY,
        "auth_config": {"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://mock-llm-key"},
    }
    raw.update(fields)
    return msgspec.convert(raw, ProviderEntry)


def harness(port: int, *, oagw: Mapping[str, Any] | None = None) -> RuntimeHarness:
    oagw_cfg: dict[str, Any] = {
        "allow_http_upstream": True,
        "private_network_allowlist": [f"127.0.0.1:{port}"],
    }
    oagw_cfg.update(oagw or {})
    modules = [
        HeadlessRestHost,
        TypesRegistryModule,
        AuthnResolver,
        AuthzResolver,
        TenantResolver,
        CredStore,
        Oagw,
    ]
    config = {
        "modules": {m.manifest.name: None for m in modules} | {"oagw": {"config": oagw_cfg}},
        "plugins": {
            "static-credstore": {
                "config": {
                    "secrets": [
                        {"key": "mock-llm-key", "value": MOCK_KEY},
                        {"key": "other-key", "value": OTHER_KEY},
                    ]
                }
            },
            "static-authn": {
                "config": {"s2s_credentials": [{"client_id": "mini-chat", "client_secret": CLIENT_SECRET}]}
            },
        },
        "logging": {"level": "warning"},
    }
    return RuntimeHarness(
        modules=modules,
        plugins=[STATIC_AUTHN, STATIC_AUTHZ, STATIC_CREDSTORE, SINGLE_TENANT, *OAGW_AUTH],
        config=config,
    )


class Env:
    def __init__(self, h: RuntimeHarness, ctx: SecurityContext, resolver: ProviderResolver) -> None:
        self.h = h
        self.ctx = ctx
        self.resolver = resolver
        self.oagw: OagwClient = h.hub.get(OagwClient)  # type: ignore[type-abstract]
        self.providers = OagwProviders(self.oagw, resolver, lambda: ctx)
        self.port: ProviderPort = self.providers  # mypy proves the adapter conforms to the domain port


@asynccontextmanager
async def provider_env(
    mock: MockLlmServer,
    providers: Mapping[str, ProviderEntry] | None = None,
    *,
    oagw: Mapping[str, Any] | None = None,
) -> AsyncIterator[Env]:
    resolver = ProviderResolver(providers or {"mock": provider_entry(mock.port)})
    async with harness(mock.port, oagw=oagw) as h:
        authn: AuthnResolverClient = h.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]
        ctx = await service_context(authn, ClientCredentials(client_id="mini-chat", client_secret=_secret()))
        await provision_providers(h.hub.get(OagwClient), ctx, resolver)  # type: ignore[type-abstract]
        yield Env(h, ctx, resolver)


def _secret() -> Any:
    from fabrikit.kernel.security import Secret

    return Secret(CLIENT_SECRET)


def responses_body(text: str, *, model: str = "gpt-4.1-mini", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}],
        "stream": True,
        "store": False,
        "max_output_tokens": 1000,
    }
    body.update(extra)
    return body


def chat_body(text: str, *, model: str = "gpt-4.1-mini", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 1000,
    }
    body.update(extra)
    return body


def request(
    body: dict[str, Any],
    *,
    provider_id: str = "mock",
    kind: str = "openai_responses",
    tenant_id: UUID = TENANT,
    file_map: dict[str, FileRef] | None = None,
    files_searchable: int = 0,
) -> ProviderRequest:
    return ProviderRequest(
        tenant_id=tenant_id,
        user_id=USER,
        chat_id=uuid4(),
        provider_id=provider_id,
        provider_kind=kind,
        provider_model_id=body["model"],
        body=body,
        file_map=file_map or {},
        files_searchable=files_searchable,
    )


async def collect(env: Env, req: ProviderRequest) -> tuple[list[ProviderEvent], DispatchState]:
    state = DispatchState()
    events = [event async for event in env.providers.stream(req, state)]
    return events, state
