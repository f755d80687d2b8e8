"""K-7.4 shutdown: one module at a time, per-module stop deadline, a total budget, errors never block."""

from __future__ import annotations

import asyncio
from pathlib import Path

from structlog.testing import capture_logs

from fabrikit.kernel import ModuleContext, ModuleState

from .helpers import module, runtime, sleep_forever


async def test_hanging_stop_is_abandoned_and_the_next_module_still_stops(tmp_path: Path) -> None:
    log: list[str] = []
    mods = [module("first", log), module("hangs", log, deps=["first"], stop=sleep_forever, stop_timeout=0.2)]
    rt = runtime(tmp_path, mods)
    with capture_logs() as logs:
        async with rt.started():
            pass
    assert log[-2:] == ["stop:hangs", "stop:first"]
    (timeout,) = [e for e in logs if e["event"] == "module_stop_timeout"]
    assert timeout["module"] == "hangs"
    assert timeout["log_level"] == "warning"
    assert rt.records["hangs"].state is ModuleState.STOPPED
    assert rt.records["first"].state is ModuleState.STOPPED


async def test_raising_stop_is_logged_and_the_next_module_still_stops(tmp_path: Path) -> None:
    async def bad_stop(ctx: ModuleContext) -> None:
        raise RuntimeError("flush failed")

    log: list[str] = []
    rt = runtime(tmp_path, [module("first", log), module("bad", log, deps=["first"], stop=bad_stop)])
    with capture_logs() as logs:
        async with rt.started():
            pass
    assert log[-2:] == ["stop:bad", "stop:first"]
    (failed,) = [e for e in logs if e["event"] == "module_stop_failed"]
    assert (failed["module"], failed["error"]) == ("bad", "RuntimeError: flush failed")


async def test_shutdown_budget_bounds_total_stop_time(tmp_path: Path) -> None:
    # Each stop would hang for its whole 60 s allowance; the 0.3 s budget is spent on the first one and the
    # others are only cancelled (their stop() is never awaited).
    log: list[str] = []
    mods = [
        module("m1", log, stop=sleep_forever, stop_timeout=60),
        module("m2", log, deps=["m1"], stop=sleep_forever, stop_timeout=60),
        module("m3", log, deps=["m2"], stop=sleep_forever, stop_timeout=60),
    ]
    rt = runtime(tmp_path, mods, {"runtime": {"shutdown_budget": "300ms"}})
    with capture_logs() as logs:
        async with rt.started():
            pass
    assert [e for e in log if e.startswith("stop:")] == ["stop:m3"]
    assert [e["module"] for e in logs if e["event"] == "module_stop_timeout"] == ["m3"]
    assert {r.state for r in rt.records.values()} == {ModuleState.STOPPED}
    assert [e["event"] for e in logs][-1] == "shutdown_completed"


async def test_stop_sees_stopping_flag_and_a_deadline_within_its_allowance(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def stop(ctx: ModuleContext) -> None:
        loop = asyncio.get_running_loop()
        assert ctx.stop_deadline is not None
        seen.update(stopping=ctx.stopping.is_set(), allowance=ctx.stop_deadline - loop.time())

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, stop=stop, stop_timeout=2.0)])
    async with rt.started():
        assert not rt.contexts["svc"].stopping.is_set()
    assert seen["stopping"] is True
    assert 0 < seen["allowance"] <= 2.0  # type: ignore[operator]


async def test_shutdown_is_idempotent(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log)])
    async with rt.started():
        await rt.shutdown()
    assert log.count("stop:svc") == 1
