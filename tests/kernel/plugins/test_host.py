"""K-10 … K-10.3: spec registration, activation, overrides and materialization in phase 4."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import ClientScope, Manifest, Module, ModuleContext, StartupError
from fabrikit.kernel.plugins import PluginCatalog, PluginContext, PluginDef, PluginSpec
from fabrikit.kernel.security import PLUGIN_BASE_SCHEMA_ID
from fabrikit.kernel.testing import RuntimeHarness
from tests.fixtures.catalog import FakeCatalog

from .helpers import SPEC, SPEC_ID, Greeter, GreeterConfig, Host, Named, greeter, instance_id


async def test_register_spec_registers_the_derived_schema(tmp_path: Path) -> None:
    catalog = FakeCatalog()
    async with RuntimeHarness(modules=[Host], clients={PluginCatalog: catalog}, home=tmp_path):
        schema = catalog.schemas[SPEC_ID]
    assert schema["$id"] == "gts://" + SPEC_ID
    assert schema["allOf"] == [{"$ref": "gts://" + PLUGIN_BASE_SCHEMA_ID}]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"id", "vendor", "priority", "properties"}
    assert schema["properties"]["priority"] == {"type": "integer"}
    props = schema["properties"]["properties"]
    assert props == {"$ref": "#/definitions/GreeterProps"}
    assert schema["definitions"]["GreeterProps"]["required"] == ["language"]
    assert schema["description"] == "says hello"


async def test_plugins_materialize_in_name_order_and_register_scoped_clients(tmp_path: Path) -> None:
    built: list[str] = []
    catalog = FakeCatalog()
    plugins = [greeter(n, built=built) for n in ("zeta", "alpha", "mid")]
    async with RuntimeHarness(
        modules=[Host], plugins=plugins, clients={PluginCatalog: catalog}, home=tmp_path
    ) as h:
        assert built == ["alpha", "mid", "zeta"]
        for name in built:
            client = h.hub.get_scoped(Greeter, ClientScope.gts_id(instance_id(name)))
            assert await client.greet() == name
        assert set(h.hub.list_scoped(Greeter)) == {ClientScope.gts_id(instance_id(n)) for n in built}
        assert catalog.entries[instance_id("alpha")] == {
            "id": instance_id("alpha"), "vendor": "hyperspot", "priority": 100, "properties": {"language": "en"},
        }  # fmt: skip
        assert [p.name for p in h.view.plugins()] == ["alpha", "mid", "zeta"]


async def test_config_overrides_vendor_and_priority_and_feeds_plugin_config(tmp_path: Path) -> None:
    catalog = FakeCatalog()
    seen: list[PluginContext] = []

    def factory(pctx: PluginContext) -> Named:
        seen.append(pctx)
        return Named(pctx)

    plugin = PluginDef("cfg", host="host", spec_id=SPEC_ID, instance_id=instance_id("cfg"), factory=factory,
                       config_type=GreeterConfig, vendor="acme", priority=50)  # fmt: skip
    config = {"modules": {"host": None},
              "plugins": {"cfg": {"vendor": "other", "priority": 7, "config": {"greeting": "hi"}}}}  # fmt: skip
    async with RuntimeHarness(modules=[Host], plugins=[plugin], config=config, clients={PluginCatalog: catalog},
                              home=tmp_path) as h:  # fmt: skip
        (pctx,) = seen
        assert (pctx.vendor, pctx.priority, pctx.config) == ("other", 7, GreeterConfig(greeting="hi"))
        assert pctx.home_dir == tmp_path / "plugins" / "cfg"
        assert pctx.hub is h.hub
        entry = catalog.entries[instance_id("cfg")]
        assert (entry["vendor"], entry["priority"]) == ("other", 7)
        (record,) = h.view.plugins()
        assert (record.vendor, record.priority, record.active) == ("other", 7, True)


async def test_plugin_config_is_validated_before_any_module_code(tmp_path: Path) -> None:
    plugin = greeter("cfg", config_type=GreeterConfig)
    config = {"modules": {"host": None}, "plugins": {"cfg": {"config": {"greting": "hi"}}}}
    harness = RuntimeHarness(modules=[Host], plugins=[plugin], config=config,
                             clients={PluginCatalog: FakeCatalog()}, home=tmp_path)  # fmt: skip
    with pytest.raises(StartupError, match=r"plugins\.cfg\.config") as info:
        await harness.__aenter__()
    assert "greting" in str(info.value)
    assert harness.runtime.records == {}


async def test_plugin_without_enabled_host_or_disabled_is_skipped(tmp_path: Path) -> None:
    built: list[str] = []
    plugins = [greeter("orphan", host="absent", built=built), greeter("off", built=built),
               greeter("on", built=built)]  # fmt: skip
    config = {"modules": {"host": None}, "plugins": {"off": {"enabled": False}}}
    with capture_logs() as logs:
        async with RuntimeHarness(modules=[Host], plugins=plugins, config=config,
                                  clients={PluginCatalog: FakeCatalog()}, home=tmp_path) as h:  # fmt: skip
            records = {p.name: (p.active, p.skip_reason) for p in h.view.plugins()}
    assert built == ["on"]
    assert records == {
        "off": (False, "disabled in config"),
        "on": (True, None),
        "orphan": (False, "host module 'absent' is not enabled"),
    }
    skipped = {e["plugin"]: e["reason"] for e in logs if e["event"] == "plugin_skipped"}
    assert skipped == {"off": "disabled in config", "orphan": "host module 'absent' is not enabled"}


async def test_async_factory_is_awaited(tmp_path: Path) -> None:
    async def factory(pctx: PluginContext) -> Named:
        await asyncio.sleep(0)
        return Named(pctx)

    plugin = PluginDef(
        "later", host="host", spec_id=SPEC_ID, instance_id=instance_id("later"), factory=factory
    )
    async with RuntimeHarness(modules=[Host], plugins=[plugin], clients={PluginCatalog: FakeCatalog()},
                              home=tmp_path) as h:  # fmt: skip
        client = h.hub.get_scoped(Greeter, ClientScope.gts_id(instance_id("later")))
        assert await client.greet() == "later"


async def _startup_error(tmp_path: Path, modules: list, plugins: list, clients: dict | None) -> StartupError:  # type: ignore[type-arg]
    harness = RuntimeHarness(modules=modules, plugins=plugins, clients=clients, home=tmp_path)
    with pytest.raises(StartupError) as info:
        await harness.__aenter__()
    return info.value


async def test_factory_returning_the_wrong_type_fails_startup(tmp_path: Path) -> None:
    plugin = PluginDef("wrong", host="host", spec_id=SPEC_ID, instance_id=instance_id("wrong"),
                       factory=lambda pctx: object())  # fmt: skip
    err = await _startup_error(tmp_path, [Host], [plugin], {PluginCatalog: FakeCatalog()})
    assert "plugin 'wrong': factory returned object, not a Greeter" in str(err)
    assert err.report is not None
    assert (err.report["failed_phase"], err.report["failed_module"]) == ("plugins", "wrong")


async def test_plugins_require_a_catalog(tmp_path: Path) -> None:
    err = await _startup_error(tmp_path, [Host], [greeter("one")], None)
    assert "plugins require the types-registry module" in str(err)


async def test_host_that_did_not_register_its_spec(tmp_path: Path) -> None:
    class Lazy(Module):
        manifest = Manifest("host")

    err = await _startup_error(tmp_path, [Lazy], [greeter("one")], {PluginCatalog: FakeCatalog()})
    assert f"host 'host' did not register spec {SPEC_ID} in init" in str(err)


async def test_catalog_rejections_fail_startup(tmp_path: Path) -> None:
    catalog = FakeCatalog()
    catalog.reject[instance_id("one")] = "priority: expected integer"
    err = await _startup_error(tmp_path, [Host], [greeter("one")], {PluginCatalog: catalog})
    assert "instance rejected by the types registry: priority: expected integer" in str(err)
    catalog = FakeCatalog()
    catalog.reject[SPEC_ID] = "bad schema"
    err = await _startup_error(tmp_path / "2", [Host], [], {PluginCatalog: catalog})
    assert "spec schema rejected: bad schema" in str(err)


async def test_a_spec_belongs_to_one_module(tmp_path: Path) -> None:
    class Thief(Module):
        manifest = Manifest("thief", deps=["host"])

        async def init(self, ctx: ModuleContext) -> None:
            await ctx.plugins.register_spec(SPEC)

    err = await _startup_error(tmp_path, [Host, Thief], [], {PluginCatalog: FakeCatalog()})
    assert "spec already registered by module 'host'" in str(err)


def test_spec_and_definition_ids_are_checked() -> None:
    from fabrikit.kernel.plugins import PluginDefinitionError

    with pytest.raises(PluginDefinitionError, match="must be a GTS type id"):
        PluginSpec("x.other.v1~", iface=Greeter)
    with pytest.raises(PluginDefinitionError, match="one segment"):
        greeter("x").__class__("x", host="h", spec_id=SPEC_ID, instance_id=SPEC_ID + "bad", factory=Named)
    with pytest.raises(PluginDefinitionError, match="kebab-case"):
        greeter("Bad_Name")
