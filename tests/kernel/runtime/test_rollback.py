"""K-7.1: a failing phase rolls back — started modules stop in reverse, plugin clients are closed, report."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import ModuleContext, ModuleState, PhaseError, StartupError
from fabrikit.kernel.plugins import PluginCatalog, PluginContext, PluginDef, PluginSpec
from tests.fixtures.catalog import FakeCatalog

from .helpers import module, runtime


async def boom(ctx: ModuleContext) -> None:
    raise ValueError(f"{ctx.name} is broken")


async def test_init_failure_stops_nothing(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(
        tmp_path, [module("a", log), module("b", log, deps=["a"], init=boom), module("c", log, deps=["b"])]
    )
    with pytest.raises(StartupError) as info:
        await rt.startup()
    assert log == ["init:a", "init:b"]
    cause = info.value.__cause__
    assert isinstance(cause, PhaseError)
    assert (cause.phase, cause.module) == ("init", "b")
    assert str(cause) == "init of 'b' failed: ValueError: b is broken"
    assert rt.records["b"].state is ModuleState.FAILED
    assert rt.records["b"].error == "ValueError: b is broken"


async def test_start_failure_stops_entered_modules_in_reverse(tmp_path: Path) -> None:
    log: list[str] = []
    mods = [
        module("m1", log),
        module("m2", log, deps=["m1"]),
        module("m3", log, deps=["m2"], start=boom),
        module("m4", log, deps=["m3"]),
    ]
    rt = runtime(tmp_path, mods)
    with pytest.raises(StartupError, match="start of 'm3' failed: ValueError: m3 is broken"):
        await rt.startup()
    assert [e for e in log if not e.startswith("init:")] == [
        "start:m1", "start:m2", "start:m3", "stop:m3", "stop:m2", "stop:m1",
    ]  # fmt: skip
    states = {n: r.state for n, r in rt.records.items()}
    assert states == {
        "m1": ModuleState.STOPPED,
        "m2": ModuleState.STOPPED,
        "m3": ModuleState.FAILED,
        "m4": ModuleState.INITIALIZED,
    }


async def test_failure_report_names_phase_module_and_error(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, [module("a", log), module("b", log, deps=["a"], start=boom)])
    with capture_logs() as logs, pytest.raises(StartupError) as info:
        await rt.startup()
    (report,) = [e for e in logs if e["event"] == "startup_report"]
    assert report["log_level"] == "error"
    assert report["ok"] is False
    assert report["failed_phase"] == "start"
    assert report["failed_module"] == "b"
    assert report["error"] == "ValueError: b is broken"
    assert str(info.value) == "start of 'b' failed: ValueError: b is broken"
    assert [(m["name"], m["state"]) for m in report["modules"]] == [("a", "stopped"), ("b", "failed")]
    assert report["modules"][1]["error"] == "ValueError: b is broken"
    assert (
        info.value.report
        == rt.last_report
        == {k: v for k, v in report.items() if k not in ("event", "log_level")}
    )


SPEC = PluginSpec("gts.x.core.modkit.plugin.v1~x.test.closing.plugin.v1~", iface=object)


class ClosingClient:
    def __init__(self, name: str, closed: list[str]) -> None:
        self.name, self.closed = name, closed

    async def aclose(self) -> None:
        self.closed.append(self.name)


def _plugins(closed: list[str]) -> list[PluginDef]:
    def factory(pctx: PluginContext) -> ClosingClient:
        return ClosingClient(pctx.name, closed)

    return [
        PluginDef(
            n,
            host="host",
            spec_id=SPEC.id,
            instance_id=SPEC.id + f"acme.test.closing.{n.replace('-', '_')}.v1",
            factory=factory,
        )
        for n in ("p-one", "p-two")
    ]


async def _register(ctx: ModuleContext) -> None:
    await ctx.plugins.register_spec(SPEC)


async def test_plugin_clients_are_closed_on_rollback(tmp_path: Path) -> None:
    log: list[str] = []
    closed: list[str] = []
    mods = [
        module("host", log, init=_register),
        module("late", log, deps=["host"], start=boom),
        *_plugins(closed),
    ]
    rt = runtime(tmp_path, mods, clients={PluginCatalog: FakeCatalog()})
    with pytest.raises(StartupError):
        await rt.startup()
    assert closed == ["p-two", "p-one"]
    assert log[-2:] == ["stop:late", "stop:host"]


async def test_plugin_clients_are_closed_on_shutdown_after_modules_stop(tmp_path: Path) -> None:
    log: list[str] = []
    closed: list[str] = []

    async def note_closed(ctx: ModuleContext) -> None:
        log.append(f"closed so far: {closed}")

    rt = runtime(tmp_path, [module("host", log, init=_register, stop=note_closed), *_plugins(closed)],
                 clients={PluginCatalog: FakeCatalog()})  # fmt: skip
    async with rt.started():
        assert closed == []
    assert log[-1] == "closed so far: []"
    assert closed == ["p-two", "p-one"]


async def test_plugin_failure_rolls_back_without_stop_calls(tmp_path: Path) -> None:
    log: list[str] = []

    def broken(pctx: PluginContext) -> object:
        raise RuntimeError("no credentials")

    bad = PluginDef("bad", host="host", spec_id=SPEC.id, instance_id=SPEC.id + "acme.test.closing.bad.v1",
                    factory=broken)  # fmt: skip
    rt = runtime(tmp_path, [module("host", log, init=_register), bad], clients={PluginCatalog: FakeCatalog()})
    with pytest.raises(StartupError) as info:
        await rt.startup()
    assert info.value.report is not None
    assert info.value.report["failed_phase"] == "plugins"
    assert info.value.report["failed_module"] == "bad"
    assert "RuntimeError: no credentials" in info.value.report["error"]
    assert log == ["init:host"]
