"""K-7.2 background tasks, K-2.2 no tasks in init, K-6.1 await_ready, K-7.5 on_module_failure."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import ModuleContext, ModuleState, PhaseTimeoutError, SpawnNotAllowed, StartupError

from .helpers import module, runtime, settle


def spawning(coro_name: str, body, *, critical: bool = True):  # type: ignore[no-untyped-def]
    async def start(ctx: ModuleContext) -> None:
        ctx.spawn(coro_name, body, critical=critical)

    return start


async def test_failing_task_marks_module_failed_and_unready(tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def server() -> None:
        await gate.wait()
        raise OSError("address already in use")

    log: list[str] = []
    rt = runtime(tmp_path, [module("web", log, start=spawning("server", server)), module("other", log)])
    async with rt.started():
        assert rt.is_ready()
        with capture_logs() as logs:
            gate.set()
            assert await settle(lambda: rt.records["web"].state is ModuleState.FAILED)
        assert rt.records["web"].error == "task 'server' failed: OSError: address already in use"
        ready, bad = rt.view().readiness()
        assert not ready
        assert bad == {"web": "failed"}
        (event,) = [e for e in logs if e["event"] == "module_failed"]
        assert event["module"] == "web"
        assert isinstance(event["exc_info"], OSError)
    # a failed module keeps its state through shutdown
    assert rt.records["web"].state is ModuleState.FAILED
    assert rt.records["other"].state is ModuleState.STOPPED


async def test_critical_task_returning_before_stop_fails_the_module(tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def loop() -> None:
        await gate.wait()

    log: list[str] = []
    rt = runtime(tmp_path, [module("worker", log, start=spawning("loop", loop))])
    async with rt.started():
        gate.set()
        assert await settle(lambda: rt.records["worker"].state is ModuleState.FAILED)
        assert rt.records["worker"].error == "task 'loop' returned before stop"
        assert not rt.is_ready()


async def test_non_critical_task_may_return(tmp_path: Path) -> None:
    done = asyncio.Event()

    async def once() -> None:
        done.set()

    log: list[str] = []
    rt = runtime(tmp_path, [module("worker", log, start=spawning("once", once, critical=False))])
    async with rt.started():
        await done.wait()
        await settle(lambda: False, rounds=5)
        assert rt.records["worker"].state is ModuleState.RUNNING
        assert rt.is_ready()


async def test_tasks_are_cancelled_at_stop_without_failing_the_module(tmp_path: Path) -> None:
    cancelled, running = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    log: list[str] = []
    rt = runtime(tmp_path, [module("worker", log, start=spawning("forever", forever))])
    async with rt.started():
        await running.wait()
    assert cancelled.is_set()
    assert rt.records["worker"].state is ModuleState.STOPPED
    assert rt.records["worker"].error is None


async def test_spawn_in_init_raises(tmp_path: Path) -> None:
    caught: list[BaseException] = []

    async def init(ctx: ModuleContext) -> None:
        try:
            ctx.spawn("early", asyncio.Event().wait)
        except SpawnNotAllowed as exc:
            caught.append(exc)

    log: list[str] = []
    rt = runtime(tmp_path, [module("eager", log, init=init)])
    async with rt.started():
        pass
    (exc,) = caught
    assert "only from start()" in str(exc)


async def test_spawn_in_init_fails_startup_when_not_caught(tmp_path: Path) -> None:
    async def init(ctx: ModuleContext) -> None:
        ctx.spawn("early", asyncio.Event().wait)

    log: list[str] = []
    rt = runtime(tmp_path, [module("eager", log, init=init)])
    with pytest.raises(StartupError, match="init of 'eager' failed: SpawnNotAllowed"):
        await rt.startup()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_await_ready_waits_for_set_ready(tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def start(ctx: ModuleContext) -> None:
        async def serve() -> None:
            await gate.wait()
            ctx.set_ready()
            await asyncio.Event().wait()

        ctx.spawn("serve", serve)

    log: list[str] = []
    rt = runtime(
        tmp_path, [module("web", log, start=start, await_ready=True), module("after", log, deps=["web"])]
    )
    startup = asyncio.create_task(rt.startup())
    assert await settle(lambda: "start:web" in log)
    await settle(lambda: startup.done(), rounds=20)
    assert not startup.done()
    assert rt.records["web"].state is ModuleState.STARTING
    assert "start:after" not in log
    gate.set()
    await startup
    assert log[-1] == "start:after"
    assert rt.is_ready()
    await rt.shutdown()


async def test_start_that_never_sets_ready_times_out(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, [module("web", log, await_ready=True)], {"runtime": {"timeouts": {"start": 0.2}}})
    with pytest.raises(StartupError, match=r"start of 'web' did not finish within 0\.2 s") as info:
        await rt.startup()
    assert isinstance(info.value.__cause__, PhaseTimeoutError)
    assert log == ["init:web", "start:web", "stop:web"]


async def test_task_failure_while_awaiting_ready_fails_start(tmp_path: Path) -> None:
    async def start(ctx: ModuleContext) -> None:
        async def serve() -> None:
            raise OSError("port taken")

        ctx.spawn("serve", serve)

    log: list[str] = []
    rt = runtime(tmp_path, [module("web", log, start=start, await_ready=True)])
    with pytest.raises(StartupError, match="task 'serve' failed: OSError: port taken") as info:
        await rt.startup()
    assert info.value.report is not None
    assert info.value.report["failed_phase"] == "start"
    assert info.value.report["failed_module"] == "web"


async def test_on_module_failure_exit_shuts_down_with_exit_code_1(tmp_path: Path) -> None:
    async def crash() -> None:
        raise RuntimeError("lost the lease")

    log: list[str] = []
    mods = [module("crashy", log, start=spawning("lease", crash)), module("calm", log)]
    rt = runtime(tmp_path, mods, {"runtime": {"on_module_failure": "exit"}})
    assert await asyncio.wait_for(rt.run(), 30) == 1
    assert "stop:calm" in log
    assert rt.records["crashy"].state is ModuleState.FAILED


async def test_on_module_failure_keep_keeps_running_until_shutdown(tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def crash() -> None:
        await gate.wait()
        raise RuntimeError("lost the lease")

    log: list[str] = []
    rt = runtime(tmp_path, [module("crashy", log, start=spawning("lease", crash)), module("calm", log)])
    running = asyncio.create_task(rt.run())
    assert await settle(lambda: rt.records.get("calm") is not None and rt.is_ready())
    gate.set()
    assert await settle(lambda: rt.records["crashy"].state is ModuleState.FAILED)
    await settle(lambda: running.done(), rounds=20)
    assert not running.done()
    assert "stop:calm" not in log
    rt.request_shutdown()
    assert await running == 1  # a failed module makes the exit code 1 even on a normal shutdown
    assert "stop:calm" in log


@pytest.mark.parametrize("freeze", [True, False])
async def test_run_freezes_the_start_up_heap_unless_told_not_to(tmp_path: Path, freeze: bool) -> None:
    gc.unfreeze()
    rt = runtime(tmp_path, [module("svc", [])], {"runtime": {"freeze_heap": freeze}})
    with capture_logs() as logs:
        running = asyncio.create_task(rt.run())
        assert await settle(rt.is_ready)
        frozen = gc.get_freeze_count()
        rt.request_shutdown()
        assert await running == 0
    assert (frozen > 1000) is freeze  # the whole start-up heap, not a handful of objects
    events = [e for e in logs if e["event"] == "startup_heap_frozen"]
    assert len(events) == int(freeze)
    if freeze:  # frozen objects that die later leave the count: it only shrinks
        assert events[0]["objects"] >= frozen


async def test_clean_run_exits_zero(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log)])
    running = asyncio.create_task(rt.run())
    assert await settle(rt.is_ready)
    rt.request_shutdown()
    assert await running == 0
    assert log == ["init:svc", "start:svc", "stop:svc"]
