"""A full runtime for oagw tests: REST host on ``127.0.0.1:0``, static authn/authz/credstore/tenants, oagw and its
auth plugins. ``oagw_runtime(ups, oagw={...}, secrets=[...])`` yields a started ``RuntimeHarness``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.oagw.module import Oagw
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    AuthConfig,
    Endpoint,
    HttpMatch,
    OagwClient,
    RouteMatch,
    RouteSpec,
    Server,
    Upstream,
    UpstreamSpec,
)
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.oagw_auth.plugin import DEFINITIONS as OAGW_AUTH
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE

from .upstreams import Upstreams

AUTH = {"Authorization": "Bearer test-token"}
CTX = SecurityContext(subject_id=DEFAULT_SUBJECT_ID, subject_tenant_id=DEFAULT_TENANT_ID, token_scopes=("*",))
OTHER_SUBJECT = SecurityContext(
    subject_id=UUID("22222222-0000-4000-8000-000000000002"), subject_tenant_id=DEFAULT_TENANT_ID
)
SECRET_VALUE = "sk-canary-0123456789abcdef"


def oagw_runtime(
    ups: Upstreams,
    *,
    oagw: Mapping[str, Any] | None = None,
    secrets: Sequence[Mapping[str, Any]] = (),
    allowlisted: bool = True,
) -> RuntimeHarness:
    cfg: dict[str, Any] = {"allow_http_upstream": True}
    if allowlisted:
        cfg["private_network_allowlist"] = [f"127.0.0.1:{ups.port}"]
    cfg.update(oagw or {})
    all_secrets = [
        {"key": "api-key", "value": SECRET_VALUE},
        {"key": "client-id", "value": "client-1"},
        {"key": "client-secret", "value": "client-secret-value"},
        *secrets,
    ]
    config = {
        "modules": {
            "api-gateway": {"config": {"bind_addr": "127.0.0.1:0"}},
            "types-registry": None,
            "authn-resolver": None,
            "authz-resolver": None,
            "tenant-resolver": None,
            "credstore": None,
            "oagw": {"config": cfg},
        },
        "plugins": {"static-credstore": {"config": {"secrets": all_secrets}}},
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
        ],
        plugins=[STATIC_AUTHN, STATIC_AUTHZ, STATIC_CREDSTORE, SINGLE_TENANT, *OAGW_AUTH],
        config=config,
    )


def client_of(h: RuntimeHarness) -> OagwClient:
    return h.hub.get(OagwClient)  # type: ignore[type-abstract]


def upstream_spec(
    ups: Upstreams,
    *,
    alias: str | None = "echo",
    host: str = "127.0.0.1",
    port: int | None = None,
    **fields: Any,
) -> UpstreamSpec:
    return UpstreamSpec(
        server=Server(endpoints=[Endpoint(host=host, scheme="http", port=port or ups.port)]),
        protocol=HTTP_PROTOCOL_ID,
        alias=alias,
        **fields,
    )


def route_spec(
    upstream: Upstream,
    path: str = "/",
    methods: Sequence[str] = ("GET", "POST", "PUT", "DELETE", "PATCH"),
    **kw: Any,
) -> RouteSpec:
    match_fields = {k: kw.pop(k) for k in ("query_allowlist", "path_suffix_mode") if k in kw}
    return RouteSpec(
        upstream_id=upstream.id,
        match=RouteMatch(http=HttpMatch(methods=list(methods), path=path, **match_fields)),
        **kw,
    )


async def provision(
    h: RuntimeHarness,
    ups: Upstreams,
    *,
    alias: str = "echo",
    path: str = "/",
    route: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Upstream:
    client = client_of(h)
    upstream = await client.create_upstream(CTX, upstream_spec(ups, alias=alias, **fields))
    await client.create_route(CTX, route_spec(upstream, path, **dict(route or {})))
    return upstream


def apikey_auth() -> AuthConfig:
    from fabrikit.modules.oagw.sdk import APIKEY_AUTH_ID

    return AuthConfig(
        type=APIKEY_AUTH_ID,
        config={"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://api-key"},
    )
