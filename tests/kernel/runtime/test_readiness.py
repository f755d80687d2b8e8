"""K-8 readiness checks folded into the runtime's readiness (what /readyz reports, K-19.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabrikit.kernel import ModuleContext

from .helpers import module, runtime


async def test_checks_fold_into_readiness(tmp_path: Path) -> None:
    healthy = {"db": True}

    async def init(ctx: ModuleContext) -> None:
        ctx.add_readiness_check("db", lambda: healthy["db"])

        def broken() -> bool:
            raise ConnectionError("gone")

        ctx.add_readiness_check("broken", broken) if ctx.name == "flaky" else None

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, init=init), module("flaky", log, init=init)])
    assert rt.readiness()[0] is False  # not started yet
    async with rt.started():
        ready, bad = rt.readiness()
        assert not ready
        assert bad == {"flaky": "check_failed:broken"}
        rt.contexts["flaky"].readiness_checks.pop("broken")
        assert rt.readiness() == (True, {})
        healthy["db"] = False
        assert rt.readiness() == (False, {"flaky": "check_failed:db", "svc": "check_failed:db"})
        assert not rt.view().is_ready()
    assert rt.readiness()[0] is False  # shutting down


async def test_async_readiness_check_is_refused(tmp_path: Path) -> None:
    async def check() -> bool:
        return True

    ctx_seen: list[ModuleContext] = []

    async def init(ctx: ModuleContext) -> None:
        ctx_seen.append(ctx)

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, init=init)])
    async with rt.started():
        with pytest.raises(
            TypeError, match="readiness check 'async' of module 'svc' must be a plain function"
        ):
            ctx_seen[0].add_readiness_check("async", check)  # type: ignore[arg-type]  # refused on purpose
        assert rt.is_ready()


async def test_check_returning_a_coroutine_counts_as_failing_and_is_closed(tmp_path: Path) -> None:
    async def check() -> bool:
        return True

    async def init(ctx: ModuleContext) -> None:
        ctx.add_readiness_check("sneaky", lambda: check())  # type: ignore[arg-type, return-value]

    log: list[str] = []
    rt = runtime(tmp_path, [module("svc", log, init=init)])
    async with rt.started():
        # an un-awaited coroutine would raise "never awaited" under -W error
        assert rt.readiness() == (False, {"svc": "check_failed:sneaky"})
