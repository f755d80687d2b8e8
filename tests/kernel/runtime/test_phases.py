"""K-6 phase order, K-6.3 states, K-5.4 rest host last, K-7.4 stop in reverse start order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, ModuleState, SystemContext
from fabrikit.kernel.plugins import PluginCatalog, PluginContext, PluginDef, PluginSpec
from tests.fixtures.catalog import FakeCatalog

from .helpers import STATEFUL, module, runtime

SPEC = PluginSpec("gts.x.core.modkit.plugin.v1~x.test.phase.plugin.v1~", iface=object)


def _full_app(log: list[str]) -> list[Any]:
    async def register_spec(ctx: ModuleContext) -> None:
        await ctx.plugins.register_spec(SPEC)

    def factory(pctx: PluginContext) -> object:
        log.append(f"plugins:{pctx.name}")
        return object()

    plugin = PluginDef(
        "pl", host="store", spec_id=SPEC.id, instance_id=SPEC.id + "acme.test.phase.one.v1", factory=factory
    )
    return [
        module("sys-a", log, caps=[Capability.SYSTEM, STATEFUL]),
        module("store", log, caps=[Capability.DB, STATEFUL], init=register_spec),
        module("api", log, deps=["store"], caps=[Capability.REST, STATEFUL]),
        module("admin", log, caps=[Capability.REST, STATEFUL]),
        # 'gateway' sorts before most names: it must still start after every other stateful module.
        module("gateway", log, caps=[Capability.REST_HOST, STATEFUL]),
        module("worker", log, deps=["store"]),
        module("zz-plain", log, caps=()),
        plugin,
    ]


async def test_phases_run_in_spec_order_and_stop_reverses_start(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, _full_app(log), clients={PluginCatalog: FakeCatalog()})
    async with rt.started():
        startup = list(log)
    assert startup == [
        "pre_init:sys-a",
        "db:store",
        "init:sys-a", "init:admin", "init:gateway", "init:store", "init:api", "init:worker", "init:zz-plain",
        "plugins:pl",
        "post_init:sys-a",
        "rest_prepare:gateway", "register_rest:admin", "register_rest:api", "rest_finalize:gateway",
        "start:sys-a", "start:admin", "start:store", "start:api", "start:worker", "start:gateway",
    ]  # fmt: skip
    assert log[len(startup) :] == [
        "stop:gateway", "stop:worker", "stop:api", "stop:store", "stop:admin", "stop:sys-a",
    ]  # fmt: skip


async def test_states_after_startup_and_after_shutdown(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log), module("lib", log, caps=())])
    view = rt.view()
    async with rt.started():
        states = {r.name: r.state for r in view.modules()}
        assert states == {"lib": ModuleState.RUNNING, "svc": ModuleState.RUNNING}
        assert view.is_ready()
    assert rt.records["svc"].state is ModuleState.STOPPED
    assert not view.is_ready()
    assert set(rt.records["svc"].timings_ms) == {"init", "start", "stop"}


async def test_system_module_sees_initialized_modules_in_start_order_at_post_init(tmp_path: Path) -> None:
    seen: list[tuple[str, ModuleState]] = []

    class Observer(Module):
        manifest = Manifest("observer", capabilities={Capability.SYSTEM})

        async def post_init(self, sys: SystemContext) -> None:
            seen.extend((r.name, r.state) for r in sys.runtime.modules())

    log: list[str] = []
    rt = runtime(tmp_path, [Observer, module("b", log), module("a", log, deps=["b"])])
    async with rt.started():
        pass
    assert seen == [
        ("observer", ModuleState.INITIALIZED),
        ("b", ModuleState.INITIALIZED),
        ("a", ModuleState.INITIALIZED),
    ]


async def test_module_sees_starting_state_during_its_start(tmp_path: Path) -> None:
    seen: list[ModuleState] = []

    async def look(ctx: ModuleContext) -> None:
        seen.append(rt.view().modules()[0].state)

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, start=look)])
    async with rt.started():
        pass
    assert seen == [ModuleState.STARTING]


async def test_context_exposes_config_home_and_instance_id(tmp_path: Path) -> None:
    got: dict[str, Any] = {}

    async def look(ctx: ModuleContext) -> None:
        got.update(name=ctx.name, home=ctx.home_dir, instance=ctx.instance_id, db=ctx.db)

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, init=look)], {"server": {"instance_id": "inst-1"}})
    async with rt.started():
        pass
    assert got == {"name": "svc", "home": tmp_path / "svc", "instance": "inst-1", "db": None}
    assert (tmp_path / "svc").is_dir()
