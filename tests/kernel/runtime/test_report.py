"""K-19.1 startup report (logged as ``startup_report`` and kept on the runtime) and K-19.4 phase events."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from fabrikit.kernel import Capability, ModuleContext
from fabrikit.kernel.plugins import PluginCatalog, PluginDef, PluginSpec
from tests.fixtures.catalog import FakeCatalog

from .helpers import STATEFUL, module, runtime

SPEC = PluginSpec("gts.x.core.modkit.plugin.v1~x.test.report.plugin.v1~", iface=object)


async def _register(ctx: ModuleContext) -> None:
    await ctx.plugins.register_spec(SPEC)


def _plugin(name: str, host: str, priority: int = 100) -> PluginDef:
    return PluginDef(name, host=host, spec_id=SPEC.id, instance_id=SPEC.id + f"acme.test.report.{name}.v1",
                     factory=lambda pctx: object(), priority=priority)  # fmt: skip


async def test_success_report_fields(tmp_path: Path) -> None:
    log: list[str] = []
    mods = [
        module("host", log, caps=[Capability.SYSTEM], init=_register),
        module("svc", log, deps=["host"], caps=[STATEFUL], version="1.2.3"),
        _plugin("alpha", "host", priority=5),
        _plugin("orphan", "absent-host"),
    ]
    rt = runtime(
        tmp_path, mods, {"plugins": {"alpha": {"vendor": "zeta"}}}, clients={PluginCatalog: FakeCatalog()}
    )
    with capture_logs() as logs:
        async with rt.started():
            pass
    (report,) = [e for e in logs if e["event"] == "startup_report"]
    assert report["log_level"] == "info"
    assert report["ok"] is True
    assert isinstance(report["total_ms"], float)
    assert not {"failed_phase", "failed_module", "error"} & set(report)
    host, svc = report["modules"]
    assert {k: host[k] for k in ("order", "name", "version", "capabilities", "state")} == {
        "order": 0, "name": "host", "version": "0.0.0", "capabilities": ["system"], "state": "running",
    }  # fmt: skip
    assert set(host["timings_ms"]) == {"pre_init", "init", "post_init"}
    assert {k: svc[k] for k in ("order", "name", "version", "capabilities", "state")} == {
        "order": 1, "name": "svc", "version": "1.2.3", "capabilities": ["stateful"], "state": "running",
    }  # fmt: skip
    assert set(svc["timings_ms"]) == {"init", "start"}
    assert "error" not in svc
    assert report["plugins"] == [
        {
            "name": "alpha",
            "instance_id": SPEC.id + "acme.test.report.alpha.v1",
            "vendor": "zeta",
            "priority": 5,
        }
    ]
    skipped = [e for e in logs if e["event"] == "plugin_skipped"]
    assert [(e["plugin"], e["reason"]) for e in skipped] == [
        ("orphan", "host module 'absent-host' is not enabled")
    ]
    phases = [(e["module"], e["phase"]) for e in logs if e["event"] == "module_phase_completed"]
    assert phases == [
        ("host", "pre_init"),
        ("host", "init"),
        ("svc", "init"),
        ("host", "post_init"),
        ("svc", "start"),
    ]
    assert rt.view().startup_report() == {k: v for k, v in report.items() if k not in ("event", "log_level")}


async def test_startup_error_in_plan_is_reported_too(tmp_path: Path) -> None:
    import pytest

    from fabrikit.kernel import StartupError

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log)], {"modules": {"svc": None, "nope": None}})
    with capture_logs() as logs, pytest.raises(StartupError, match="unknown module 'nope'"):
        await rt.startup()
    (report,) = [e for e in logs if e["event"] == "startup_report"]
    assert report["ok"] is False
    assert "unknown module 'nope'" in report["error"]
    assert log == []
