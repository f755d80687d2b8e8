"""Upstream targets per provider and tenant override (C-21, CI-1.3, CI-13.5) — pure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest

from fabrikit.modules.mini_chat.config import ProviderEntry
from fabrikit.modules.mini_chat.infra.providers import (
    ProviderConfigError,
    ProviderNotConfigured,
    ProviderResolver,
    derived_alias,
    route_specs,
    upstream_spec,
)

TENANT_B = UUID("0b000000-0000-4000-8000-00000000000b")
TENANT_C = UUID("0c000000-0000-4000-8000-00000000000c")


def entry(**fields: Any) -> ProviderEntry:
    raw: dict[str, Any] = {"kind": "openai_responses", "host": "api.openai.com"}
    raw.update(fields)
    return msgspec.convert(raw, ProviderEntry)


def test_host_name_alias_is_derived_like_oagw() -> None:
    assert derived_alias("API.OpenAI.com.", 443, "https") == "api.openai.com"
    assert derived_alias("llm.local", 8000, "http") == "llm.local:8000"
    assert derived_alias("llm.local", 80, "http") == "llm.local"
    target = ProviderResolver({"openai": entry()}).resolve("openai")
    assert (target.alias, target.scheme, target.port, target.api_path) == (
        "api.openai.com",
        "https",
        443,
        "/v1/responses",
    )


def test_ip_host_uses_the_configured_alias_and_needs_one() -> None:
    target = ProviderResolver(
        {"m": entry(host="127.0.0.1", port=8089, use_http=True, upstream_alias="Mock-LLM")}
    ).resolve("m")
    assert target.alias == "mock-llm"
    assert target.scheme == "http"
    bare = entry(host="10.0.0.5", upstream_alias="x")
    bare = msgspec.structs.replace(bare, upstream_alias=None)  # bypasses the config check on purpose
    with pytest.raises(ProviderConfigError, match="upstream_alias"):
        ProviderResolver({"m": bare})


def test_a_host_name_alias_other_than_the_derived_one_is_refused_at_start() -> None:
    with pytest.raises(ProviderConfigError, match=r"providers\.openai\.upstream_alias.*api\.openai\.com"):
        ProviderResolver({"openai": entry(upstream_alias="my-openai")})


def test_tenant_override_wins_for_its_tenant_only() -> None:
    overrides = {
        str(TENANT_B): {
            "host": "eu.openai.example.com",
            "auth_config": {"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://b-key"},
        }
    }
    resolver = ProviderResolver({"openai": entry(tenant_overrides=overrides)})
    base = resolver.resolve("openai", TENANT_C)
    override = resolver.resolve("openai", TENANT_B)
    assert base.alias == "api.openai.com"
    assert base.tenant_id is None
    assert override.alias == "eu.openai.example.com"
    assert override.tenant_id == TENANT_B
    assert override.auth_config["secret_ref"] == "cred://b-key"
    assert override.auth_type == "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1"
    assert override.api_path == base.api_path
    assert [t.alias for t in resolver.targets()] == ["api.openai.com", "eu.openai.example.com"]
    assert override.config_key.endswith(f"providers.openai.tenant_overrides.{TENANT_B}")


def test_override_on_the_same_host_with_other_credentials_is_refused() -> None:
    overrides = {
        str(TENANT_B): {
            "host": "api.openai.com",
            "auth_config": {"header": "Authorization", "secret_ref": "b"},
        }
    }
    with pytest.raises(ProviderConfigError, match="already used"):
        ProviderResolver({"openai": entry(tenant_overrides=overrides)})


def test_override_key_must_be_a_uuid() -> None:
    with pytest.raises(ProviderConfigError, match="tenant UUID"):
        ProviderResolver({"openai": entry(tenant_overrides={"tenant-b": {"host": "b.example.com"}})})


def test_providers_sharing_an_upstream_are_fine_when_identical() -> None:
    resolver = ProviderResolver({"responses": entry(), "chat": entry(kind="openai_chat_completions")})
    assert resolver.resolve("chat").api_path == "/v1/chat/completions"
    assert resolver.resolve("chat").alias == resolver.resolve("responses").alias


def test_unknown_provider() -> None:
    with pytest.raises(ProviderNotConfigured):
        ProviderResolver({"openai": entry()}).resolve("other")


def test_azure_paths_routes_and_api_version() -> None:
    azure = entry(
        kind="azure_openai_responses",
        host="acme.openai.azure.com",
        api_path="/openai/deployments/{model}/responses",
        storage_kind="azure",
        api_version="2025-03-01-preview",
        auth_config={"header": "api-key", "secret_ref": "cred://azure-key"},
    )
    target = ProviderResolver({"azure": azure}).resolve("azure")
    assert target.api_query == (("api-version", "2025-03-01-preview"),)  # added from api_version
    assert target.path_for("gpt 4o") == "/openai/deployments/gpt%204o/responses"
    assert target.llm_route_path == "/openai/deployments"
    assert target.rag_route_paths == ("/openai/files", "/openai/vector_stores")
    routes = route_specs(target, "gts.x.core.oagw.upstream.v1~00000000-0000-4000-8000-000000000001")
    llm, files, stores = (r.match.http for r in routes)
    assert llm is not None
    assert files is not None
    assert stores is not None
    assert (llm.path, llm.methods, llm.query_allowlist) == ("/openai/deployments", ["POST"], ["api-version"])
    assert files.path == "/openai/files"
    assert "api-version" in files.query_allowlist
    assert stores.methods == ["DELETE", "GET", "POST"]
    spec = upstream_spec(target)
    assert spec.auth is not None
    assert spec.auth.config == {
        "header": "api-key",
        "prefix": "",
        "secret_ref": "cred://azure-key",
    }
    assert spec.alias == "acme.openai.azure.com"


def test_api_path_query_kept_and_not_duplicated() -> None:
    azure = entry(
        kind="azure_openai_responses",
        host="acme.openai.azure.com",
        api_path="/openai/deployments/{model}/responses?api-version=2024-10-21",
        storage_kind="azure",
        api_version="2025-03-01-preview",
    )
    target = ProviderResolver({"azure": azure}).resolve("azure")
    assert target.api_query == (("api-version", "2024-10-21"),)
    assert target.rag_query == (("api-version", "2025-03-01-preview"),)


def test_model_cannot_escape_its_path_segment() -> None:
    target = ProviderResolver({"a": entry(api_path="/openai/deployments/{model}/responses")}).resolve("a")
    assert target.path_for("../../admin") == "/openai/deployments/..%2F..%2Fadmin/responses"
