"""authz-resolver with the static plugin through the real runtime: selection via the types registry (P-0.5)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel.plugins import PluginCatalog
from fabrikit.kernel.security import SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.authz_resolver import module as authz_module
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.authz_resolver.sdk import (
    AUTHZ_PLUGIN_SPEC_ID,
    AccessDenied,
    AccessRequest,
    Action,
    AuthzResolverClient,
    EvaluationFailed,
    EvaluationRequest,
    NoPluginAvailable,
    PolicyEnforcer,
    Resource,
    ResourceType,
    Subject,
)
from fabrikit.plugins.static_authz.plugin import DEFINITION, INSTANCE_ID

from .headless import platform_harness

TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
CTX = SecurityContext(subject_id=UUID(int=7), subject_tenant_id=TENANT, token_scopes=("*",))
CHATS = ResourceType("gts.x.test.chat.v1~", ("owner_tenant_id", "id"))


def harness(config: dict[str, Any] | None = None) -> RuntimeHarness:
    return platform_harness(AuthzResolver, [DEFINITION], config)


def test_manifest() -> None:
    m = AuthzResolver.manifest
    assert m.name == "authz-resolver"
    assert m.deps == ("types-registry",)
    assert {c.value for c in m.capabilities} == {"system"}
    assert authz_module.fabrikit_modules() == [AuthzResolver]


async def test_static_plugin_is_selected_through_the_registry() -> None:
    async with harness() as h:
        catalog = h.hub.get(PluginCatalog)  # type: ignore[type-abstract]
        assert [e.gts_id for e in await catalog.instances(AUTHZ_PLUGIN_SPEC_ID + "*")] == [INSTANCE_ID]
        client = h.hub.get(AuthzResolverClient)  # type: ignore[type-abstract]
        response = await client.evaluate(
            EvaluationRequest(
                subject=Subject(id=CTX.subject_id, properties={"tenant_id": str(TENANT)}),
                action=Action("read"),
                resource=Resource(type=CHATS.name),
            )
        )
        assert response.decision is True
        scope = await PolicyEnforcer(client).access_scope(CTX, CHATS, "read")
        assert scope.matches({"owner_tenant_id": TENANT})
        assert not scope.matches({"owner_tenant_id": UUID(int=1)})
        with pytest.raises(AccessDenied):
            await PolicyEnforcer(client).access_scope(
                CTX, CHATS, "read", request=AccessRequest(tenant_root_id=UUID(int=1))
            )


async def test_wrong_vendor_is_no_plugin_available_and_the_pep_refuses() -> None:
    async with harness({"modules": {"authz-resolver": {"config": {"vendor": "acme"}}}}) as h:
        client = h.hub.get(AuthzResolverClient)  # type: ignore[type-abstract]
        request = EvaluationRequest(
            subject=Subject(id=CTX.subject_id), action=Action("read"), resource=Resource(type=CHATS.name)
        )
        with pytest.raises(NoPluginAvailable):
            await client.evaluate(request)
        with pytest.raises(EvaluationFailed):  # PDP down → 403, never allow
            await PolicyEnforcer(client).access_scope(CTX, CHATS, "read")


async def test_plugin_vendor_override_matches_the_module_vendor() -> None:
    config = {
        "modules": {"authz-resolver": {"config": {"vendor": "acme"}}},
        "plugins": {"static-authz": {"vendor": "acme"}},
    }
    async with harness(config) as h:
        client = h.hub.get(AuthzResolverClient)  # type: ignore[type-abstract]
        assert await PolicyEnforcer(client).access_scope(CTX, CHATS, "read")
