"""Plugin selection (K-10.4, P-0.5) against the real types registry, not a fake catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabrikit.kernel import StartupError
from fabrikit.kernel.plugins import PluginNotFound, PluginUnavailable
from fabrikit.modules.types_registry.sdk import RegisterError, TypesRegistryClient

from .hosts import SPEC_ID, Host, greeter, harness, instance_id


def _host(h: object) -> Host:
    module = h.runtime.modules["host"]  # type: ignore[attr-defined]
    assert isinstance(module, Host)
    return module


async def test_vendor_mismatch_is_plugin_not_found(tmp_path: Path) -> None:
    async with harness(tmp_path, Host, greeter("elsewhere", vendor="acme")) as h:
        with pytest.raises(PluginNotFound) as caught:
            await h.runtime.contexts["host"].plugins.selector(Host.spec, vendor="hyperspot").get()
        chosen = await h.runtime.contexts["host"].plugins.selector(Host.spec, vendor="acme").get_instance()
    assert caught.value.vendor == "hyperspot"
    assert chosen.gts_id == instance_id("elsewhere")


async def test_lowest_priority_wins_and_ties_go_to_the_smallest_id(tmp_path: Path) -> None:
    plugins = [greeter("b-tie", priority=10), greeter("a-tie", priority=10), greeter("cheap", priority=50)]
    async with harness(tmp_path, Host, *plugins) as h:
        chosen = await h.runtime.contexts["host"].plugins.selector(Host.spec).get_instance()
        every = await h.runtime.contexts["host"].plugins.selector(Host.spec).all()
    assert chosen.gts_id == instance_id("a-tie")
    assert [i.gts_id for i in every] == [instance_id("a-tie"), instance_id("b-tie"), instance_id("cheap")]


async def test_a_malformed_instance_never_reaches_selection(tmp_path: Path) -> None:
    async with harness(tmp_path, Host, greeter("good", priority=50)) as h:
        registry = h.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        bad_id = instance_id("cheaper")
        (result,) = await registry.register(
            [{"id": bad_id, "vendor": "hyperspot", "priority": "0", "properties": {}}]
        )
        chosen = await h.runtime.contexts["host"].plugins.selector(Host.spec).get_instance()
    assert isinstance(result, RegisterError)
    assert result.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    assert "$.priority: '0' is not of type 'integer'" in result.error
    assert "$.properties: 'language' is a required property" in result.error
    assert chosen.gts_id == instance_id("good")


async def test_selection_before_ready_fails_and_is_retried_after(tmp_path: Path) -> None:
    async with harness(tmp_path, Host, greeter("late")) as h:
        host = _host(h)
        assert isinstance(host.early_probe, PluginUnavailable)
        assert "not ready" in str(host.early_probe)
        assert host.selector is not None
        chosen = await host.selector.get_instance()  # the same selector: the failure was not cached
    assert chosen.gts_id == instance_id("late")


async def test_a_plugin_whose_factory_fails_aborts_startup_naming_it(tmp_path: Path) -> None:
    def explode(pctx: object) -> object:
        raise RuntimeError("no backend configured")

    broken = greeter("broken")
    broken = type(broken)(
        broken.name, broken.host, SPEC_ID, broken.instance_id, explode, properties={"language": "en"}
    )
    with pytest.raises(StartupError) as caught:
        async with harness(tmp_path, Host, broken):
            pass
    assert str(caught.value) == "plugins of 'broken' failed: RuntimeError: no backend configured"
