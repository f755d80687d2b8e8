"""Provider provisioning at *start* (CI-1.3): an oagw upstream plus routes for every provider and every tenant
override, idempotently (``ensure_*``, G-7.3), with mini-chat's service context.

Routes per upstream: the LLM path (``POST``; its prefix before ``{model}``; the query keys of ``api_path`` allowed)
and the RAG paths (files and vector stores; ``GET``/``POST``/``DELETE``; ``api-version`` allowed for Azure). An
upstream without routes answers 404 — the reference system forgot the override routes.
"""

from __future__ import annotations

import msgspec

from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient, ClientCredentialsRequest
from fabrikit.modules.oagw.sdk import (
    HTTP_PROTOCOL_ID,
    AuthConfig,
    Endpoint,
    HttpMatch,
    OagwClient,
    Route,
    RouteMatch,
    RouteSpec,
    Server,
    Upstream,
    UpstreamSpec,
)

from ...config import ClientCredentials
from .resolver import ProviderResolver, UpstreamTarget

TAG = "mini-chat"
_RAG_METHODS = ["DELETE", "GET", "POST"]
# List calls of the Files / Vector Store APIs page with these.
_RAG_QUERY = ["after", "before", "limit", "order", "purpose"]


class ProvisionedUpstream(msgspec.Struct, frozen=True, kw_only=True):
    target: UpstreamTarget
    upstream: Upstream
    routes: tuple[Route, ...]


async def service_context(authn: AuthnResolverClient, credentials: ClientCredentials) -> SecurityContext:
    """mini-chat's own identity (``client_credentials`` via authn-resolver) for provisioning and provider calls."""
    result = await authn.exchange_client_credentials(
        ClientCredentialsRequest(client_id=credentials.client_id, client_secret=credentials.client_secret)
    )
    return result.security_context


def upstream_spec(target: UpstreamTarget) -> UpstreamSpec:
    auth = AuthConfig(type=target.auth_type, config=dict(target.auth_config)) if target.auth_type else None
    tags = [TAG, f"provider:{target.provider_id}"]
    if target.tenant_id is not None:
        tags.append(f"tenant_override:{target.tenant_id}")
    return UpstreamSpec(
        server=Server(endpoints=[Endpoint(host=target.host, scheme=target.scheme, port=target.port)]),
        protocol=HTTP_PROTOCOL_ID,
        # A host name's alias is derived by oagw (and must match); an IP host needs the configured one.
        alias=target.alias,
        auth=auth,
        tags=tags,
    )


def route_specs(target: UpstreamTarget, upstream_id: str) -> list[RouteSpec]:
    llm = HttpMatch(
        methods=["POST"],
        path=target.llm_route_path,
        query_allowlist=sorted({key for key, _ in target.api_query}),
    )
    rag_query = sorted({*_RAG_QUERY, *(key for key, _ in target.rag_query)})
    specs = [RouteSpec(upstream_id=upstream_id, match=RouteMatch(http=llm), tags=[TAG, "llm"])]
    for path in target.rag_route_paths:
        if path == llm.path:
            continue
        rag = HttpMatch(methods=list(_RAG_METHODS), path=path, query_allowlist=rag_query)
        specs.append(RouteSpec(upstream_id=upstream_id, match=RouteMatch(http=rag), tags=[TAG, "rag"]))
    return specs


async def provision_providers(
    oagw: OagwClient, ctx: SecurityContext, resolver: ProviderResolver
) -> list[ProvisionedUpstream]:
    """Ensure every provider's and tenant override's upstream and routes; safe to run at every start.

    Targets sharing an alias (same host and credentials) share one upstream; its routes are ensured once."""
    done: dict[str, ProvisionedUpstream] = {}
    result: list[ProvisionedUpstream] = []
    for target in resolver.targets():
        shared = done.get(target.alias)
        if shared is not None:
            routes = [await oagw.ensure_route(ctx, spec) for spec in route_specs(target, shared.upstream.id)]
            provisioned = ProvisionedUpstream(target=target, upstream=shared.upstream, routes=tuple(routes))
        else:
            upstream = await oagw.ensure_upstream(ctx, upstream_spec(target))
            routes = [await oagw.ensure_route(ctx, spec) for spec in route_specs(target, upstream.id)]
            provisioned = ProvisionedUpstream(target=target, upstream=upstream, routes=tuple(routes))
            done[target.alias] = provisioned
        result.append(provisioned)
    return result
