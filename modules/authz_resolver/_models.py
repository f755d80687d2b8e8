"""AuthZEN-style evaluation request and response (P-3.1). Field names are the contract."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec

from fabrikit.kernel.security import Secret

TenantMode = Literal["root_only", "subtree"]
BarrierMode = Literal["respect", "ignore"]
PdpCapability = Literal["tenant_hierarchy", "group_membership", "group_hierarchy"]

TENANT_MODES: tuple[str, ...] = ("root_only", "subtree")
BARRIER_MODES: tuple[str, ...] = ("respect", "ignore")


# --- request ----------------------------------------------------------------------------------------------------
class Subject(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    type: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)  # {"tenant_id": "<uuid>"}


class Action(msgspec.Struct, frozen=True):
    name: str


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    type: str  # a GTS type id
    id: UUID | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)


class TenantContext(msgspec.Struct, frozen=True, kw_only=True):
    mode: TenantMode = "subtree"
    root_id: UUID | None = None
    barrier_mode: BarrierMode = "respect"
    tenant_status: tuple[str, ...] | None = None


class EvaluationRequestContext(msgspec.Struct, frozen=True, kw_only=True):
    tenant_context: TenantContext | None = None
    token_scopes: tuple[str, ...] = ()
    require_constraints: bool = True
    capabilities: tuple[PdpCapability, ...] = ()
    supported_properties: tuple[str, ...] = ()


class EvaluationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """``bearer_token`` travels in memory only: msgspec refuses to encode a ``Secret``."""

    subject: Subject
    action: Action
    resource: Resource
    context: EvaluationRequestContext = msgspec.field(default_factory=EvaluationRequestContext)
    bearer_token: Secret | None = None


# --- response ---------------------------------------------------------------------------------------------------
# Values are ``Any`` on purpose: a PDP may answer anything, and the PEP rejects what it cannot compile (P-3.3.2).
class EqPredicate(msgspec.Struct, frozen=True, tag_field="op", tag="eq"):
    property: str
    value: Any


class InPredicate(msgspec.Struct, frozen=True, tag_field="op", tag="in"):
    property: str
    values: tuple[Any, ...]


class InGroupPredicate(msgspec.Struct, frozen=True, tag_field="op", tag="in_group"):
    property: str
    group_ids: tuple[Any, ...]


class InGroupSubtreePredicate(msgspec.Struct, frozen=True, tag_field="op", tag="in_group_subtree"):
    property: str
    ancestor_ids: tuple[Any, ...]


PdpPredicate = EqPredicate | InPredicate | InGroupPredicate | InGroupSubtreePredicate


class PdpConstraint(msgspec.Struct, frozen=True):
    """An AND of predicates; a response's constraints are OR-ed."""

    predicates: tuple[PdpPredicate, ...] = ()


class DenyReason(msgspec.Struct, frozen=True, kw_only=True):
    error_code: str
    details: str | None = None


class EvaluationResponseContext(msgspec.Struct, frozen=True, kw_only=True):
    constraints: tuple[PdpConstraint, ...] = ()
    deny_reason: DenyReason | None = None


class EvaluationResponse(msgspec.Struct, frozen=True, kw_only=True):
    decision: bool
    context: EvaluationResponseContext = msgspec.field(default_factory=EvaluationResponseContext)


# --- PEP inputs (P-3.3) -----------------------------------------------------------------------------------------
class ResourceType(msgspec.Struct, frozen=True):
    name: str
    supported_properties: tuple[str, ...]  # e.g. owner_tenant_id, id, owner_id


class AccessRequest(msgspec.Struct, frozen=True):
    resource_properties: dict[str, Any] | None = None
    tenant_root_id: UUID | None = None
    tenant_mode: str | None = None
    barrier_mode: str | None = None
    tenant_status: tuple[str, ...] | None = None
    require_constraints: bool = True

    @property
    def has_tenant_override(self) -> bool:
        return any(
            v is not None
            for v in (self.tenant_root_id, self.tenant_mode, self.barrier_mode, self.tenant_status)
        )
