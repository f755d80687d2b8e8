"""A configurable oagw runtime for the gap tests: a chosen authz plugin, an optional static tenant tree with one
bearer token per tenant, and an oagw config. Builds on ``tests.oagw_engine`` (same modules, real sockets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from fabrikit.kernel import PluginDef
from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.oagw.module import Oagw
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.oagw_auth.plugin import DEFINITIONS as OAGW_AUTH
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE
from fabrikit.plugins.static_tenants.plugin import DEFINITION as STATIC_TENANTS
from tests.oagw_engine.harness import SECRET_VALUE

ROOT = UUID("10000000-0000-4000-8000-000000000001")
CHILD = UUID("10000000-0000-4000-8000-000000000002")
GRANDCHILD = UUID("10000000-0000-4000-8000-000000000003")
TENANTS = [
    {"id": str(ROOT), "name": "root"},
    {"id": str(CHILD), "name": "child", "parent_id": str(ROOT)},
    {"id": str(GRANDCHILD), "name": "grandchild", "parent_id": str(CHILD)},
]
TOKENS = {ROOT: "root-token", CHILD: "child-token", GRANDCHILD: "grandchild-token"}


def bearer(tenant: UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[tenant]}"}


def ctx_of(tenant: UUID) -> SecurityContext:
    return SecurityContext(subject_id=DEFAULT_SUBJECT_ID, subject_tenant_id=tenant, token_scopes=("*",))


def gaps_runtime(
    *,
    oagw: Mapping[str, Any] | None = None,
    authz: PluginDef | None = None,
    tenant_tree: bool = False,
    oagw_database: Mapping[str, Any] | None = None,
    home: str | None = None,
    extra_modules: Sequence[Any] = (),
) -> RuntimeHarness:
    """``tenant_tree`` swaps single-tenant for static-tenants (ROOT → CHILD → GRANDCHILD) and static tokens."""
    cfg: dict[str, Any] = {"allow_http_upstream": True, "private_network_allowlist": ["127.0.0.0/8"]}
    cfg.update(oagw or {})
    oagw_entry: dict[str, Any] = {"config": cfg}
    if oagw_database is not None:
        oagw_entry["database"] = dict(oagw_database)
    plugins_cfg: dict[str, Any] = {
        "static-credstore": {"config": {"secrets": [{"key": "api-key", "value": SECRET_VALUE}]}}
    }
    plugins: list[Any] = [STATIC_AUTHN, STATIC_CREDSTORE, *OAGW_AUTH, authz or STATIC_AUTHZ]
    if tenant_tree:
        plugins.append(STATIC_TENANTS)
        plugins_cfg["static-tenants"] = {"config": {"tenants": TENANTS}}
        plugins_cfg["static-authn"] = {
            "config": {
                "mode": "static_tokens",
                "tokens": [
                    {"token": token, "identity": {"subject_tenant_id": str(tenant)}}
                    for tenant, token in TOKENS.items()
                ],
            }
        }
    else:
        plugins.append(SINGLE_TENANT)
    config = {
        "modules": {
            "api-gateway": {"config": {"bind_addr": "127.0.0.1:0"}},
            "types-registry": None,
            "authn-resolver": None,
            "authz-resolver": None,
            "tenant-resolver": None,
            "credstore": None,
            "oagw": oagw_entry,
        },
        "plugins": plugins_cfg,
        "logging": {"level": "warning"},
    }
    return RuntimeHarness(
        modules=[
            TypesRegistryModule,
            AuthnResolver,
            ApiGateway,
            AuthzResolver,
            TenantResolver,
            CredStore,
            Oagw,
            *extra_modules,
        ],
        plugins=plugins,
        config=config,
        home=home,
    )


def oagw_module(h: RuntimeHarness) -> Oagw:
    module = h.runtime.modules["oagw"]
    assert isinstance(module, Oagw)
    return module
