"""The policy enforcement point: ask the PDP, compile its answer into an AccessScope, fail closed (P-3.3)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from uuid import UUID

import structlog

from fabrikit.kernel.security import (
    AccessScope,
    Constraint,
    Eq,
    In,
    InGroup,
    InGroupSubtree,
    Predicate,
    ScopeValue,
    SecurityContext,
)

from ._contract import AuthzResolverClient
from ._errors import AccessDenied, EvaluationFailed, InvalidAccessRequest
from ._models import (
    BARRIER_MODES,
    TENANT_MODES,
    AccessRequest,
    Action,
    EqPredicate,
    EvaluationRequest,
    EvaluationRequestContext,
    EvaluationResponse,
    InGroupPredicate,
    InGroupSubtreePredicate,
    InPredicate,
    PdpCapability,
    PdpConstraint,
    PdpPredicate,
    Resource,
    ResourceType,
    Subject,
    TenantContext,
)

_log = structlog.get_logger("fabrikit.authz.pep")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DEFAULT_EVALUATION_TIMEOUT = 10.0


class _ConstraintRejected(Exception):
    """One constraint cannot be compiled; only that constraint is dropped."""


class PolicyEnforcer:
    """Builds evaluation requests from a SecurityContext and turns the PDP's answer into an AccessScope."""

    def __init__(
        self,
        client: AuthzResolverClient,
        *,
        timeout: float = DEFAULT_EVALUATION_TIMEOUT,
        capabilities: Sequence[PdpCapability] = (),
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._capabilities = tuple(capabilities)

    async def access_scope(
        self,
        ctx: SecurityContext,
        resource: ResourceType,
        action: str,
        *,
        resource_id: UUID | None = None,
        request: AccessRequest | None = None,
    ) -> AccessScope:
        """The rows ``ctx`` may ``action`` on; raises ``AccessDenied`` or ``EvaluationFailed`` (both 403)."""
        req = request or AccessRequest()
        evaluation = self.build_request(ctx, resource, action, resource_id=resource_id, request=req)
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.evaluate(evaluation)
        except Exception as exc:  # fail closed on anything the PDP does, timeouts included
            cause = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            _log.error(
                "authz_evaluation_failed",
                resource_type=resource.name,
                action=action,
                subject_id=str(ctx.subject_id),
                error=cause,
            )
            raise EvaluationFailed(cause) from None
        return compile_access_scope(
            response, resource, require_constraints=req.require_constraints, action=action
        )

    def build_request(
        self,
        ctx: SecurityContext,
        resource: ResourceType,
        action: str,
        *,
        resource_id: UUID | None = None,
        request: AccessRequest | None = None,
    ) -> EvaluationRequest:
        """The P-3.3.1 request: who (from ``ctx``), what, and ``tenant_context`` only on an override."""
        req = request or AccessRequest()
        return EvaluationRequest(
            subject=Subject(
                id=ctx.subject_id,
                type=ctx.subject_type,
                properties={"tenant_id": str(ctx.subject_tenant_id)},
            ),
            action=Action(action),
            resource=Resource(
                type=resource.name, id=resource_id, properties=dict(req.resource_properties or {})
            ),
            context=EvaluationRequestContext(
                tenant_context=_tenant_context(req),
                token_scopes=tuple(ctx.token_scopes),
                require_constraints=req.require_constraints,
                capabilities=self._capabilities,
                supported_properties=tuple(resource.supported_properties),
            ),
            bearer_token=ctx.bearer_token,
        )


def _tenant_context(req: AccessRequest) -> TenantContext | None:
    if not req.has_tenant_override:
        return None
    mode = req.tenant_mode or "subtree"
    barrier = req.barrier_mode or "respect"
    if mode not in TENANT_MODES:
        raise InvalidAccessRequest(f"tenant_mode must be one of {', '.join(TENANT_MODES)}")
    if barrier not in BARRIER_MODES:
        raise InvalidAccessRequest(f"barrier_mode must be one of {', '.join(BARRIER_MODES)}")
    return TenantContext(
        mode=mode,  # type: ignore[arg-type]  # checked above
        root_id=req.tenant_root_id,
        barrier_mode=barrier,  # type: ignore[arg-type]
        tenant_status=tuple(req.tenant_status) if req.tenant_status is not None else None,
    )


def compile_access_scope(
    response: EvaluationResponse,
    resource: ResourceType,
    *,
    require_constraints: bool = True,
    action: str = "",
) -> AccessScope:
    """The fail-closed compile of P-3.3.2."""
    if not response.decision:
        reason = response.context.deny_reason
        _log.info(
            "authz_denied",
            resource_type=resource.name,
            action=action,
            error_code=reason.error_code if reason else None,
        )
        raise AccessDenied(reason, cause="decision_false")
    constraints = response.context.constraints
    if not constraints:
        if require_constraints:
            _log.warning("authz_constraints_missing", resource_type=resource.name, action=action)
            raise AccessDenied(cause="constraints_required")
        return AccessScope.allow_all()
    supported = frozenset(resource.supported_properties)
    survivors: list[Constraint] = []
    for index, constraint in enumerate(constraints):
        try:
            survivors.append(_compile_constraint(constraint, supported))
        except _ConstraintRejected as exc:
            _log.warning(
                "authz_constraint_dropped", resource_type=resource.name, index=index, reason=str(exc)
            )
    if not survivors:
        raise AccessDenied(cause="no_compilable_constraint")
    return AccessScope.any_of(*survivors)


def _compile_constraint(constraint: PdpConstraint, supported: frozenset[str]) -> Constraint:
    if not constraint.predicates:
        raise _ConstraintRejected("constraint has no predicates")
    return Constraint([_compile_predicate(p, supported) for p in constraint.predicates])


def _compile_predicate(pred: PdpPredicate, supported: frozenset[str]) -> Predicate:
    if pred.property not in supported:
        raise _ConstraintRejected(f"unsupported property '{pred.property}'")
    if isinstance(pred, EqPredicate):
        return Eq(pred.property, _value(pred.value))
    if isinstance(pred, InPredicate):
        return In(pred.property, _values(pred.values))
    if isinstance(pred, InGroupPredicate):
        return InGroup(pred.property, _values(pred.group_ids))
    if isinstance(pred, InGroupSubtreePredicate):
        return InGroupSubtree(pred.property, _values(pred.ancestor_ids))
    raise _ConstraintRejected(f"unknown predicate {type(pred).__name__}")


def _values(values: object) -> list[ScopeValue]:
    if not isinstance(values, list | tuple) or not values:
        raise _ConstraintRejected("empty value list")
    return [_value(v) for v in values]


def _value(value: object) -> ScopeValue:
    # bool first: it is an int subclass, and True must not become 1.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return UUID(value) if _UUID_RE.match(value) else value
    raise _ConstraintRejected(f"unsupported value type {type(value).__name__}")
