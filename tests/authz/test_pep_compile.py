"""P-3.3.2: every row of the fail-closed compile table, and P-3.3.3's single generic 403."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from structlog.testing import capture_logs

from fabrikit.kernel.errors import PermissionDenied
from fabrikit.kernel.security import (
    AccessScope,
    Constraint,
    Eq,
    In,
    InGroup,
    InGroupSubtree,
    SecurityContext,
)
from fabrikit.modules.authz_resolver.sdk import (
    AccessDenied,
    AccessRequest,
    DenyReason,
    EqPredicate,
    EvaluationFailed,
    EvaluationResponse,
    EvaluationResponseContext,
    InGroupPredicate,
    InGroupSubtreePredicate,
    InPredicate,
    PdpConstraint,
    PdpPredicate,
    PolicyEnforcer,
    ResourceType,
    compile_access_scope,
)
from tests.strategies.authz import constraint_lists

from .pdp import FailingPdp, HangingPdp, ScriptedPdp

TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
CHATS = ResourceType("gts.x.test.chat.v1~", ("owner_tenant_id", "id", "owner_id"))
CTX = SecurityContext(subject_id=UUID(int=7), subject_tenant_id=TENANT, token_scopes=("*",))
VALID = PdpConstraint((InPredicate("owner_tenant_id", (str(TENANT),)),))
VALID_SCOPE = AccessScope.any_of(Constraint([In("owner_tenant_id", [TENANT])]))


def allow(*constraints: PdpConstraint) -> EvaluationResponse:
    return EvaluationResponse(decision=True, context=EvaluationResponseContext(constraints=constraints))


async def scope_for(response: EvaluationResponse, *, require: bool = True) -> AccessScope:
    pep = PolicyEnforcer(ScriptedPdp(response))
    return await pep.access_scope(CTX, CHATS, "read", request=AccessRequest(require_constraints=require))


# --- evaluate raises or times out → EvaluationFailed (ERROR log) ------------------------------------------------
async def test_evaluate_raising_is_evaluation_failed_with_an_error_log() -> None:
    pep = PolicyEnforcer(FailingPdp(ConnectionError("pdp down")))
    with capture_logs() as logs, pytest.raises(EvaluationFailed):
        await pep.access_scope(CTX, CHATS, "read")
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event"] for e in errors] == ["authz_evaluation_failed"]
    assert errors[0]["error"] == "ConnectionError"


async def test_evaluate_raising_a_domain_error_is_also_evaluation_failed() -> None:
    from fabrikit.modules.authz_resolver.sdk import NoPluginAvailable

    pep = PolicyEnforcer(FailingPdp(NoPluginAvailable("no pdp")))
    with pytest.raises(EvaluationFailed):
        await pep.access_scope(CTX, CHATS, "read")


async def test_evaluate_timing_out_is_evaluation_failed_with_an_error_log() -> None:
    pep = PolicyEnforcer(HangingPdp(), timeout=0.01)
    with capture_logs() as logs, pytest.raises(EvaluationFailed) as info:
        await pep.access_scope(CTX, CHATS, "read")
    assert info.value.cause == "timeout"
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["authz_evaluation_failed"]


# --- decision=false → AccessDenied(deny_reason) -----------------------------------------------------------------
@pytest.mark.parametrize("require", [True, False])
async def test_decision_false_is_access_denied_carrying_the_reason(require: bool) -> None:
    reason = DenyReason(error_code="gts.x.core.errors.err.v1~x.authz.errors.insufficient_permissions.v1")
    denied = EvaluationResponse(
        decision=False, context=EvaluationResponseContext(constraints=(VALID,), deny_reason=reason)
    )
    with capture_logs() as logs, pytest.raises(AccessDenied) as info:
        await scope_for(denied, require=require)
    assert info.value.deny_reason == reason
    assert any(e["event"] == "authz_denied" and e["error_code"] == reason.error_code for e in logs)


async def test_decision_false_without_reason_is_access_denied() -> None:
    with pytest.raises(AccessDenied) as info:
        await scope_for(EvaluationResponse(decision=False))
    assert info.value.deny_reason is None


# --- no constraints: require=True → AccessDenied / require=False → allow_all() ---------------------------------
async def test_no_constraints_with_require_is_access_denied() -> None:
    with pytest.raises(AccessDenied):
        await scope_for(allow(), require=True)


async def test_no_constraints_without_require_is_allow_all() -> None:
    scope = await scope_for(allow(), require=False)
    assert scope == AccessScope.allow_all()
    assert scope.unconstrained


async def test_constraints_are_compiled_even_when_not_required() -> None:
    assert await scope_for(allow(VALID), require=False) == VALID_SCOPE


# --- a constraint fails on: unsupported property, empty list, bad value, zero predicates ------------------------
FAILING: dict[str, PdpPredicate | None] = {
    "unsupported-property": InPredicate("tenant", (str(TENANT),)),
    "unsupported-property-eq": EqPredicate("owner_tenant", str(TENANT)),
    "empty-in": InPredicate("owner_tenant_id", ()),
    "empty-in-group": InGroupPredicate("id", ()),
    "empty-in-group-subtree": InGroupSubtreePredicate("id", ()),
    "float-eq": EqPredicate("owner_id", 1.5),
    "none-eq": EqPredicate("owner_id", None),
    "dict-eq": EqPredicate("owner_id", {"a": 1}),
    "list-eq": EqPredicate("owner_id", ["a"]),
    "float-in-list": InPredicate("id", ("a", 2.0)),
    "none-in-group": InGroupPredicate("id", (None,)),
    "uuid-object-in-subtree": InGroupSubtreePredicate("id", (TENANT,)),  # not str/int/bool on the wire
    "zero-predicates": None,
}


def _failing_constraint(case: str) -> PdpConstraint:
    pred = FAILING[case]
    return PdpConstraint(()) if pred is None else PdpConstraint((VALID.predicates[0], pred))


@pytest.mark.parametrize("case", sorted(FAILING))
async def test_a_failing_constraint_alone_is_access_denied(case: str) -> None:
    for require in (True, False):
        with pytest.raises(AccessDenied):
            await scope_for(allow(_failing_constraint(case)), require=require)


@pytest.mark.parametrize("case", sorted(FAILING))
async def test_a_failing_constraint_is_dropped_and_the_valid_one_kept(case: str) -> None:
    with capture_logs() as logs:
        scope = await scope_for(allow(_failing_constraint(case), VALID))
    assert scope == VALID_SCOPE
    assert [e["index"] for e in logs if e["event"] == "authz_constraint_dropped"] == [0]


async def test_all_empty_constraints_deny() -> None:
    """**Fix:** the reference allowed everything here."""
    with pytest.raises(AccessDenied):
        await scope_for(allow(PdpConstraint(()), PdpConstraint(())), require=False)


async def test_empty_plus_valid_keeps_only_the_valid_constraint() -> None:
    scope = await scope_for(allow(PdpConstraint(()), VALID))
    assert scope.constraints == VALID_SCOPE.constraints
    assert not scope.unconstrained
    assert scope.matches({"owner_tenant_id": TENANT})
    assert not scope.matches({"owner_tenant_id": UUID(int=99)})


async def test_every_constraint_failing_is_access_denied() -> None:
    with pytest.raises(AccessDenied):
        await scope_for(allow(*(_failing_constraint(c) for c in sorted(FAILING))))


# --- otherwise: OR of survivors, UUID-looking strings become UUIDs, bool before int -----------------------------
async def test_survivors_are_or_ed_with_each_predicate_kind_compiled() -> None:
    group = "6d0c2bb4-9a4e-4f7f-8c0a-2a9d8f1e3b55"
    response = allow(
        PdpConstraint(
            (EqPredicate("owner_id", str(CTX.subject_id)), InPredicate("owner_tenant_id", (str(TENANT),)))
        ),
        PdpConstraint((InGroupPredicate("id", (group,)),)),
        PdpConstraint((InGroupSubtreePredicate("id", (group.upper(),)),)),
    )
    scope = await scope_for(response)
    assert scope == AccessScope.any_of(
        Constraint([Eq("owner_id", CTX.subject_id), In("owner_tenant_id", [TENANT])]),
        Constraint([InGroup("id", [UUID(group)])]),
        Constraint([InGroupSubtree("id", [UUID(group)])]),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (0, 0),
        (1, 1),
        (-5, -5),
        ("plain", "plain"),
        ("", ""),
        ("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11", UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")),
        ("3F0B8A52-6F38-4B8E-9A57-4B1F8D0C2A11", UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")),
        ("3f0b8a526f384b8e9a574b1f8d0c2a11", "3f0b8a526f384b8e9a574b1f8d0c2a11"),  # not the canonical form
        ("{3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11}", "{3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11}"),
    ],
)
async def test_value_conversion(raw: Any, expected: Any) -> None:
    scope = await scope_for(allow(PdpConstraint((EqPredicate("owner_id", raw),))))
    (pred,) = scope.constraints[0].predicates
    assert isinstance(pred, Eq)
    assert pred.value == expected
    assert type(pred.value) is type(expected)  # True stays a bool, never the int 1


# --- P-3.3.3: one generic 403 -----------------------------------------------------------------------------------
def test_access_denied_and_evaluation_failed_share_one_generic_forbidden_body() -> None:
    secret_reason = DenyReason(error_code="x.secret.reason", details="tenant 123 is suspended")
    denied = AccessDenied(secret_reason)
    failed = EvaluationFailed("pdp exploded with token abc")
    for exc in (denied, failed):
        assert isinstance(exc, PermissionDenied)
        assert exc.status == 403
        assert exc.code == "forbidden"
    bodies = [e.to_problem().to_dict() for e in (denied, failed, AccessDenied())]
    assert bodies[0] == bodies[1] == bodies[2]
    text = str(bodies[0]) + str(denied) + str(failed)
    assert "secret" not in text
    assert "suspended" not in text
    assert "abc" not in text


def test_compile_is_usable_without_a_client() -> None:
    assert compile_access_scope(allow(VALID), CHATS) == VALID_SCOPE


@given(constraint_lists())
def test_exactly_the_valid_constraints_survive(case: tuple[list[PdpConstraint], list[bool]]) -> None:
    constraints, keep = case
    with capture_logs():  # keeps the many examples' warnings off the console
        try:
            scope = compile_access_scope(allow(*constraints), CHATS)
        except AccessDenied:
            assert not any(keep)
            return
    assert any(keep)
    assert len(scope.constraints) == sum(keep)
    assert not scope.unconstrained
