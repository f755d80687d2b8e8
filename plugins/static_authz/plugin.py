"""static-authz: allow everything inside the caller's own tenant (P-3.4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from fabrikit.kernel import PluginContext, PluginDef, hookimpl
from fabrikit.kernel.security import NIL_UUID, OWNER_TENANT_ID
from fabrikit.modules.authz_resolver.sdk import (
    AUTHZ_PLUGIN_SPEC_ID,
    INSUFFICIENT_PERMISSIONS_ERROR,
    INVALID_REQUEST_ERROR,
    DenyReason,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationResponseContext,
    InPredicate,
    PdpConstraint,
)

INSTANCE_ID = AUTHZ_PLUGIN_SPEC_ID + "hyperspot.builtin.static_authz_resolver.plugin.v1"


def _deny(error_code: str, details: str) -> EvaluationResponse:
    return EvaluationResponse(
        decision=False,
        context=EvaluationResponseContext(deny_reason=DenyReason(error_code=error_code, details=details)),
    )


def _subject_tenant(request: EvaluationRequest) -> UUID | None:
    raw = request.subject.properties.get("tenant_id")
    if isinstance(raw, UUID):
        tenant = raw
    elif isinstance(raw, str):
        try:
            tenant = UUID(raw)
        except ValueError:
            return None
    else:
        return None
    return None if tenant == NIL_UUID else tenant


class StaticAuthzPlugin:
    """Every action on every resource is allowed, constrained to the subject's tenant."""

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        tenant = _subject_tenant(request)
        if tenant is None:
            return _deny(INVALID_REQUEST_ERROR, "subject.properties.tenant_id is missing or not a tenant id")
        tenant_ctx = request.context.tenant_context
        # The reference trusted any caller-supplied root; only the subject's own tenant is honoured here.
        if tenant_ctx is not None and tenant_ctx.root_id is not None and tenant_ctx.root_id != tenant:
            return _deny(INSUFFICIENT_PERMISSIONS_ERROR, "tenant_context.root_id is not the subject's tenant")
        allow = PdpConstraint(predicates=(InPredicate(property=OWNER_TENANT_ID, values=(str(tenant),)),))
        return EvaluationResponse(decision=True, context=EvaluationResponseContext(constraints=(allow,)))

    def __repr__(self) -> str:
        return "StaticAuthzPlugin()"


def _factory(pctx: PluginContext) -> StaticAuthzPlugin:
    return StaticAuthzPlugin()


DEFINITION = PluginDef(
    name="static-authz",
    host="authz-resolver",
    spec_id=AUTHZ_PLUGIN_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    priority=100,
    description="Static authorization: allow within the subject's own tenant",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
