"""P-3.3.1: what the PEP asks the PDP."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec
import pytest

from fabrikit.kernel.security import Secret, SecurityContext
from fabrikit.modules.authz_resolver.sdk import (
    AccessRequest,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationResponseContext,
    InPredicate,
    InvalidAccessRequest,
    PdpConstraint,
    PolicyEnforcer,
    ResourceType,
    TenantContext,
)

from .pdp import ScriptedPdp

TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
CHATS = ResourceType("gts.x.test.chat.v1~", ("owner_tenant_id", "id"))
CTX = SecurityContext(
    subject_id=UUID(int=7),
    subject_tenant_id=TENANT,
    subject_type="user",
    token_scopes=("chat.read", "chat.write"),
    bearer_token=Secret("tok-123"),
)
ALLOW = EvaluationResponse(
    decision=True,
    context=EvaluationResponseContext(
        constraints=(PdpConstraint((InPredicate("owner_tenant_id", (str(TENANT),)),)),)
    ),
)


async def _asked(request: AccessRequest | None = None, resource_id: UUID | None = None) -> EvaluationRequest:
    pdp = ScriptedPdp(ALLOW)
    await PolicyEnforcer(pdp).access_scope(CTX, CHATS, "update", resource_id=resource_id, request=request)
    (asked,) = pdp.requests
    return asked


async def test_request_carries_the_caller_and_the_resource_type() -> None:
    rid = uuid4()
    asked = await _asked(AccessRequest(resource_properties={"owner_id": "u1"}), resource_id=rid)
    assert asked.subject.id == CTX.subject_id
    assert asked.subject.type == "user"
    assert asked.subject.properties == {"tenant_id": str(TENANT)}
    assert asked.action.name == "update"
    assert asked.resource.type == "gts.x.test.chat.v1~"
    assert asked.resource.id == rid
    assert asked.resource.properties == {"owner_id": "u1"}
    assert asked.context.token_scopes == ("chat.read", "chat.write")
    assert asked.context.supported_properties == ("owner_tenant_id", "id")
    assert asked.context.require_constraints is True
    assert asked.bearer_token == Secret("tok-123")


async def test_no_tenant_context_without_an_override() -> None:
    asked = await _asked()
    assert asked.context.tenant_context is None
    assert asked.resource.properties == {}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (AccessRequest(tenant_root_id=TENANT), TenantContext(root_id=TENANT)),
        (AccessRequest(tenant_mode="root_only"), TenantContext(mode="root_only")),
        (AccessRequest(barrier_mode="ignore"), TenantContext(barrier_mode="ignore")),
        (AccessRequest(tenant_status=("active",)), TenantContext(tenant_status=("active",))),
        (
            AccessRequest(
                tenant_root_id=TENANT, tenant_mode="subtree", barrier_mode="respect", tenant_status=()
            ),
            TenantContext(root_id=TENANT, mode="subtree", barrier_mode="respect", tenant_status=()),
        ),
    ],
    ids=["root", "mode", "barrier", "status", "all"],
)
async def test_any_tenant_override_sends_a_tenant_context(
    request_: AccessRequest, expected: TenantContext
) -> None:
    asked = await _asked(request_)
    assert asked.context.tenant_context == expected


async def test_require_constraints_false_is_forwarded() -> None:
    asked = await _asked(AccessRequest(require_constraints=False))
    assert asked.context.require_constraints is False


@pytest.mark.parametrize(
    "request_", [AccessRequest(tenant_mode="everything"), AccessRequest(barrier_mode="maybe")]
)
async def test_unknown_tenant_modes_are_rejected_before_asking(request_: AccessRequest) -> None:
    pdp = ScriptedPdp(ALLOW)
    with pytest.raises(InvalidAccessRequest):
        await PolicyEnforcer(pdp).access_scope(CTX, CHATS, "read", request=request_)
    assert pdp.requests == []


async def test_the_bearer_token_stays_in_memory() -> None:
    asked = await _asked()
    assert "tok-123" not in repr(asked)
    with pytest.raises(TypeError):
        msgspec.json.encode(asked)
