"""module-orchestrator REST (P-7.1, P-7.2, K-19.3) through the real gateway."""

from __future__ import annotations

import asyncio

from fabrikit.kernel import ModuleState
from fabrikit.modules.authn_resolver.sdk import AUTHN_PLUGIN_SPEC_ID
from fabrikit.modules.module_orchestrator.sdk import instance_state
from tests.support.gateway import AUTH, CrashLater, GwTest, gateway, module_instance

URL = "/module-orchestrator/v1/modules"


async def test_lists_enabled_modules_sorted_with_capabilities_deps_and_plugins() -> None:
    async with gateway(enable=["module-orchestrator"]) as h:
        r = await h.http.get(URL, headers=AUTH)
        assert r.status_code == 200
        items = r.json()
        names = [i["name"] for i in items]
        assert names == sorted(names)
        assert set(names) == {
            "api-gateway",
            "authn-resolver",
            "gw-test",
            "module-orchestrator",
            "types-registry",
        }
        by = {i["name"]: i for i in items}
        gw = by["api-gateway"]
        assert gw["capabilities"] == ["rest", "rest_host", "stateful"]
        assert gw["dependencies"] == ["authn-resolver"]
        assert gw["optional_dependencies"] == []
        assert gw["version"] == "0.1.0"
        assert gw["deployment_mode"] == "compiled_in"
        assert gw["instances"] == [
            {
                "instance_id": h.runtime.instance_id,
                "version": "0.1.0",
                "state": "healthy",
                "grpc_services": {},
            }
        ]
        assert by["authn-resolver"]["dependencies"] == ["types-registry"]
        assert by["authn-resolver"]["capabilities"] == ["system"]
        assert by["authn-resolver"]["plugins"] == [
            {
                "gts_id": AUTHN_PLUGIN_SPEC_ID + "hyperspot.builtin.static_authn_resolver.plugin.v1",
                "vendor": "hyperspot",
                "priority": 100,
            }
        ]
        assert "plugins" not in by["types-registry"]  # omitted when empty
        assert by["module-orchestrator"]["capabilities"] == ["rest", "system"]


async def test_requires_authentication() -> None:
    async with gateway(enable=["module-orchestrator"]) as h:
        r = await h.http.get(URL)
        assert r.status_code == 401
        assert r.json()["code"] == "unauthenticated"
        assert r.headers["www-authenticate"] == "Bearer"


async def test_a_failed_module_is_quarantined() -> None:
    async with gateway([GwTest, CrashLater], enable=["module-orchestrator"]) as h:
        module_instance(h, "crash-later").trigger.set()
        for _ in range(100):
            if h.runtime.records["crash-later"].state is ModuleState.FAILED:
                break
            await asyncio.sleep(0.01)
        items = {i["name"]: i for i in (await h.http.get(URL, headers=AUTH)).json()}
        assert items["crash-later"]["instances"][0]["state"] == "quarantined"
        assert items["gw-test"]["instances"][0]["state"] == "healthy"


def test_state_mapping() -> None:
    assert instance_state(ModuleState.RUNNING) == "healthy"
    assert instance_state(ModuleState.STOPPING) == "draining"
    assert instance_state(ModuleState.FAILED) == "quarantined"
    for other in set(ModuleState) - {ModuleState.RUNNING, ModuleState.STOPPING, ModuleState.FAILED}:
        assert instance_state(other) == "registered"
