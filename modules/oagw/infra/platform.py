"""What oagw asks of other platform modules: PEP decisions, tenant ancestors (cached), credstore secrets.

Clients are looked up in the hub lazily, at first use (never during ``init``, G-1.3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog

from fabrikit.kernel import ClientHub
from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.security import OWNER_TENANT_ID, AccessScope, Secret, SecurityContext
from fabrikit.modules.authz_resolver.sdk import (
    AccessDenied,
    AccessRequest,
    AuthzResolverClient,
    EvaluationFailed,
    PolicyEnforcer,
    ResourceType,
)
from fabrikit.modules.credstore.sdk import CredStoreClient
from fabrikit.modules.tenant_resolver.sdk import TenantResolverClient

from ..sdk import DownstreamError, ForbiddenError, SecretNotFoundError

_log = structlog.get_logger("fabrikit.modules.oagw")
Clock = Callable[[], float]


class Platform:
    def __init__(
        self, hub: ClientHub, *, tenant_chain_ttl_secs: float, clock: Clock = time.monotonic
    ) -> None:
        self._hub = hub
        self._ttl = tenant_chain_ttl_secs
        self._clock = clock
        self._pep: PolicyEnforcer | None = None
        self._chains: dict[UUID, tuple[list[UUID], float]] = {}

    def _client(self, iface: Any) -> Any:
        return self._hub.get(iface)

    async def authorize(self, ctx: SecurityContext, resource_type: str, action: str) -> None:
        """PEP check on a GTS resource type, the caller's tenant as context (G-10.3, G-12.1 step 1).

        Deny or PDP failure → 403 ``authz.forbidden`` (reason only logged)."""
        if self._pep is None:
            self._pep = PolicyEnforcer(self._client(AuthzResolverClient))
        resource = ResourceType(name=resource_type, supported_properties=(OWNER_TENANT_ID,))
        # oagw acts only inside the caller's own tenant: say so, so a PDP can refuse a foreign context.
        request = AccessRequest(tenant_root_id=ctx.subject_tenant_id, tenant_mode="root_only")
        try:
            scope = await self._pep.access_scope(ctx, resource, action, request=request)
        except (AccessDenied, EvaluationFailed):
            raise ForbiddenError("access denied") from None
        if not _scope_admits_tenant(scope, ctx.subject_tenant_id):
            raise ForbiddenError("access denied")

    async def tenant_chain(self, ctx: SecurityContext) -> list[UUID]:
        """``[own, parent, …, root]`` (G-5.2), cached per tenant for ``tenant_chain_cache_ttl_secs``."""
        tenant = ctx.subject_tenant_id
        cached = self._chains.get(tenant)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            result = await self._client(TenantResolverClient).get_ancestors(ctx, tenant)
            chain = [tenant, *(ref.id for ref in result.ancestors)]
        except DomainError as exc:
            # The caller's own upstreams still resolve; ancestors stay invisible until the resolver answers.
            _log.warning("oagw_tenant_chain_unavailable", tenant_id=str(tenant), error=exc.code)
            return [tenant]
        self._chains[tenant] = (chain, now + self._ttl)
        return chain

    async def secret(self, ctx: SecurityContext, name: str) -> Secret:
        """A credstore secret read with the caller's context; absent → 500 ``secret.not_found``."""
        try:
            found = await self._client(CredStoreClient).get(ctx, name)
        except DomainError as exc:
            if exc.status < 500:
                raise SecretNotFoundError("the referenced secret could not be read") from None
            raise DownstreamError("credstore is unavailable", status=500) from None
        if found is None:
            raise SecretNotFoundError("the referenced secret does not exist")
        return Secret(found.value.reveal_str())


def _scope_admits_tenant(scope: AccessScope, tenant: UUID) -> bool:
    """Management and proxy act inside the caller's own tenant: the scope must admit rows that tenant owns."""
    return scope.matches({OWNER_TENANT_ID: tenant})
