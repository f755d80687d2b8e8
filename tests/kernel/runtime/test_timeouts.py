"""K-6.2: async phases run under a timeout; precedence module_timeouts > manifest > runtime.timeouts > table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabrikit.kernel import PhaseTimeoutError, StartupError
from fabrikit.kernel._phases import DEFAULT_TIMEOUTS, phase_timeout

from .helpers import module, runtime, sleep_forever


async def _init_timeout(
    tmp_path: Path, raw: dict[str, Any], manifest_timeouts: dict[str, float] | None
) -> str:
    log: list[str] = []
    hung = module("oagw", log, init=sleep_forever, timeouts=manifest_timeouts)
    rt = runtime(tmp_path, [hung], raw)
    with pytest.raises(StartupError) as info:
        await rt.startup()
    cause = info.value.__cause__
    assert isinstance(cause, PhaseTimeoutError)
    assert (cause.phase, cause.module) == ("init", "oagw")
    return str(cause)


async def test_module_timeout_outranks_manifest_and_runtime(tmp_path: Path) -> None:
    raw = {"runtime": {"timeouts": {"init": 0.4}, "module_timeouts": {"oagw": {"init": 0.2}}}}
    message = await _init_timeout(tmp_path, raw, {"init": 0.3})
    assert message == "init of 'oagw' did not finish within 0.2 s"


async def test_manifest_timeout_outranks_runtime_timeouts(tmp_path: Path) -> None:
    raw = {"runtime": {"timeouts": {"init": 0.4}, "module_timeouts": {"other": {"init": 0.2}}}}
    assert await _init_timeout(tmp_path, raw, {"init": 0.3}) == "init of 'oagw' did not finish within 0.3 s"


async def test_runtime_timeouts_apply_without_manifest_or_module_override(tmp_path: Path) -> None:
    raw = {"runtime": {"timeouts": {"init": 0.4}}}
    assert await _init_timeout(tmp_path, raw, None) == "init of 'oagw' did not finish within 0.4 s"


async def test_unwritten_runtime_timeouts_do_not_outrank_the_manifest(tmp_path: Path) -> None:
    # runtime.timeouts.init defaults to 30 s; only keys written in the file may beat a manifest's own value.
    raw = {"runtime": {"timeouts": {"start": 0.4}}}
    assert await _init_timeout(tmp_path, raw, {"init": 0.3}) == "init of 'oagw' did not finish within 0.3 s"


async def test_start_timeout_names_phase_and_module(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(
        tmp_path, [module("svc", log, start=sleep_forever)], {"runtime": {"timeouts": {"start": 0.2}}}
    )
    with pytest.raises(StartupError, match=r"start of 'svc' did not finish within 0\.2 s") as info:
        await rt.startup()
    assert isinstance(info.value.__cause__, PhaseTimeoutError)
    assert info.value.__cause__.seconds == pytest.approx(0.2)


def test_table_is_the_last_resort() -> None:
    assert DEFAULT_TIMEOUTS["init"] == 30.0
    got = phase_timeout("init", "oagw", module_timeouts={}, manifest_timeouts=None, runtime_timeouts={})
    assert got == 30.0
    assert PhaseTimeoutError("init", "oagw", got).args[0] == "init of 'oagw' did not finish within 30.0 s"
    table = {p: phase_timeout(p, "m", module_timeouts={}, manifest_timeouts=None, runtime_timeouts={})
             for p in ("db", "init", "plugins", "post_init", "start", "stop")}  # fmt: skip
    assert table == {
        "db": 300.0,
        "init": 30.0,
        "plugins": 10.0,
        "post_init": 60.0,
        "start": 30.0,
        "stop": 30.0,
    }


def test_precedence_is_per_phase() -> None:
    got = phase_timeout(
        "start",
        "m",
        module_timeouts={"m": {"init": 1.0}},
        manifest_timeouts={"init": 2.0},
        runtime_timeouts={"start": 3.0},
    )
    assert got == 3.0
