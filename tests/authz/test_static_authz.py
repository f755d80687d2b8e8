"""P-3.4 static-authz and P-3.6 'Static' checklist items."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from fabrikit.kernel.plugins import PluginDef
from fabrikit.kernel.security import NIL_UUID
from fabrikit.modules.authz_resolver.sdk import (
    AUTHZ_PLUGIN_SPEC_ID,
    INSUFFICIENT_PERMISSIONS_ERROR,
    INVALID_REQUEST_ERROR,
    Action,
    AuthzResolverPlugin,
    EvaluationRequest,
    EvaluationRequestContext,
    InPredicate,
    PdpConstraint,
    Resource,
    Subject,
    TenantContext,
)
from fabrikit.plugins.static_authz import plugin as static_authz
from fabrikit.plugins.static_authz.plugin import DEFINITION, StaticAuthzPlugin

TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")


def _request(properties: dict[str, object], tenant_context: TenantContext | None = None) -> EvaluationRequest:
    return EvaluationRequest(
        subject=Subject(id=uuid4(), properties=properties),
        action=Action("delete"),
        resource=Resource(type="gts.x.test.chat.v1~", id=uuid4()),
        context=EvaluationRequestContext(tenant_context=tenant_context),
    )


async def test_allows_with_an_in_owner_tenant_id_constraint_for_the_subject_tenant() -> None:
    response = await StaticAuthzPlugin().evaluate(_request({"tenant_id": str(TENANT)}))
    assert response.decision is True
    assert response.context.deny_reason is None
    assert response.context.constraints == (
        PdpConstraint((InPredicate(property="owner_tenant_id", values=(str(TENANT),)),)),
    )


async def test_accepts_a_uuid_object_as_tenant_id() -> None:
    response = await StaticAuthzPlugin().evaluate(_request({"tenant_id": TENANT}))
    assert response.decision is True


@pytest.mark.parametrize(
    "properties",
    [{}, {"tenant_id": None}, {"tenant_id": "not-a-uuid"}, {"tenant_id": ""}, {"tenant_id": 42},
     {"tenant_id": str(NIL_UUID)}, {"tenant_id": NIL_UUID}],
    ids=["missing", "null", "unparsable", "empty", "number", "nil-string", "nil-uuid"],
)  # fmt: skip
async def test_missing_unparsable_or_nil_tenant_is_denied_as_invalid_request(properties: dict) -> None:
    response = await StaticAuthzPlugin().evaluate(_request(properties))
    assert response.decision is False
    assert response.context.constraints == ()
    assert response.context.deny_reason is not None
    assert response.context.deny_reason.error_code == INVALID_REQUEST_ERROR
    assert INVALID_REQUEST_ERROR == "gts.x.core.errors.err.v1~x.authz.errors.invalid_request.v1"


async def test_foreign_tenant_root_is_denied_as_insufficient_permissions() -> None:
    foreign = TenantContext(root_id=uuid4())
    response = await StaticAuthzPlugin().evaluate(_request({"tenant_id": str(TENANT)}, foreign))
    assert response.decision is False
    assert response.context.deny_reason is not None
    assert response.context.deny_reason.error_code == INSUFFICIENT_PERMISSIONS_ERROR
    assert (
        INSUFFICIENT_PERMISSIONS_ERROR
        == "gts.x.core.errors.err.v1~x.authz.errors.insufficient_permissions.v1"
    )


@pytest.mark.parametrize(
    "tenant_context",
    [TenantContext(root_id=TENANT), TenantContext(mode="root_only"), TenantContext(barrier_mode="ignore")],
    ids=["own-root", "no-root-id", "barrier-only"],
)
async def test_own_root_or_no_root_id_is_allowed(tenant_context: TenantContext) -> None:
    response = await StaticAuthzPlugin().evaluate(_request({"tenant_id": str(TENANT)}, tenant_context))
    assert response.decision is True
    assert response.context.constraints[0].predicates[0] == InPredicate("owner_tenant_id", (str(TENANT),))


def test_definition_matches_the_spec() -> None:
    assert DEFINITION.name == "static-authz"
    assert DEFINITION.host == "authz-resolver"
    assert (
        DEFINITION.spec_id
        == AUTHZ_PLUGIN_SPEC_ID
        == "gts.x.core.modkit.plugin.v1~x.core.authz_resolver.plugin.v1~"
    )
    assert (
        DEFINITION.instance_id == AUTHZ_PLUGIN_SPEC_ID + "hyperspot.builtin.static_authz_resolver.plugin.v1"
    )
    assert DEFINITION.priority == 100
    assert DEFINITION.vendor == "hyperspot"
    assert DEFINITION.config_type is None  # no config
    assert isinstance(StaticAuthzPlugin(), AuthzResolverPlugin)


def test_hook_registers_the_definition() -> None:
    registered: list[PluginDef] = []
    static_authz.fabrikit_register_plugins(registered.append, {})
    assert registered == [DEFINITION]
