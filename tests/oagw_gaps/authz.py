"""A test PDP: records every evaluation request, denies chosen (resource type, action) pairs, and can answer
with a constraint for a foreign tenant (an allow that does not cover the caller's tenant)."""

from __future__ import annotations

from uuid import UUID

from fabrikit.kernel import PluginContext, PluginDef
from fabrikit.kernel.security import OWNER_TENANT_ID
from fabrikit.modules.authz_resolver.sdk import (
    AUTHZ_PLUGIN_SPEC_ID,
    DenyReason,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationResponseContext,
    InPredicate,
    PdpConstraint,
)


class RecordingAuthz:
    def __init__(self) -> None:
        self.requests: list[EvaluationRequest] = []
        self.denied: set[tuple[str, str]] = set()
        self.foreign_tenant: UUID | None = None

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        self.requests.append(request)
        if (request.resource.type, request.action.name) in self.denied:
            reason = DenyReason(error_code="test.denied", details="denied by the test PDP")
            return EvaluationResponse(decision=False, context=EvaluationResponseContext(deny_reason=reason))
        owner = self.foreign_tenant or request.subject.properties["tenant_id"]
        allow = PdpConstraint(predicates=(InPredicate(property=OWNER_TENANT_ID, values=(str(owner),)),))
        return EvaluationResponse(decision=True, context=EvaluationResponseContext(constraints=(allow,)))


def recording_authz_plugin(pdp: RecordingAuthz) -> PluginDef:
    def factory(pctx: PluginContext) -> RecordingAuthz:
        return pdp

    return PluginDef(
        name="recording-authz",
        host="authz-resolver",
        spec_id=AUTHZ_PLUGIN_SPEC_ID,
        instance_id=AUTHZ_PLUGIN_SPEC_ID + "test.oagw_gaps.recording_authz.plugin.v1",
        factory=factory,
        description="Test PDP that records requests",
    )
