"""K-16: singleton workers run in at most one place; a new leader takes over after loss."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from structlog.testing import capture_logs

from fabrikit.kernel.db import Database, Singleton, open_database, resolve_db_settings

from . import pg_children

FAST: dict[str, Any] = {"ttl": 0.6, "retry_interval": 0.1}


async def wait_until(predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def contender(db: Database, module: str, runs: list[str], tag: str) -> Singleton:
    async def work() -> None:
        runs.append(tag)
        await asyncio.Event().wait()

    return Singleton(db, module, "worker", work, holder=tag, **FAST)


async def test_two_contenders_one_leader_then_takeover(db: Database, module_name: str) -> None:
    runs: list[str] = []
    a, b = contender(db, module_name, runs, "a"), contender(db, module_name, runs, "b")
    with capture_logs() as logs:
        a.start()
        await wait_until(lambda: a.is_leader)
        b.start()
        # Several renewal and retry periods pass: the follower must stay a follower.
        await asyncio.sleep(1.0)
        assert runs == ["a"]
        assert not b.is_leader
        await a.stop()
        await wait_until(lambda: b.is_leader)
        await wait_until(lambda: runs == ["a", "b"])
        await b.stop()
    assert [e["holder"] for e in logs if e["event"] == "leader_acquired"] == ["a", "b"]


async def test_worker_returning_ends_the_singleton(db: Database, module_name: str) -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)

    await asyncio.wait_for(Singleton(db, module_name, "once", work, **FAST).run(), timeout=20)
    assert calls == [1]


async def test_postgres_connection_loss_is_leadership_loss(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    db = await open_database(
        module_name, resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    runs: list[str] = []
    a, b = contender(db, module_name, runs, "a"), contender(db, module_name, runs, "b")
    admin = await asyncpg.connect(pg_session_dsn)
    try:
        with capture_logs() as logs:
            a.start()
            await wait_until(lambda: a.is_leader)
            b.start()
            pid = a._lease.connection.get_server_pid()  # type: ignore[attr-defined]
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            await wait_until(lambda: runs[-1:] == ["b"])
            assert b.is_leader
            await wait_until(lambda: any(e["event"] == "leader_lost" and e["holder"] == "a" for e in logs))
            assert not a.is_leader
    finally:
        await a.stop()
        await b.stop()
        await admin.close()
        await db.close()


def _spawn_leader(dsn: str, module: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(pg_children.__file__)), "lead", dsn, module],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_postgres_two_processes_one_leader_and_takeover_after_kill(
    pg_session_dsn: str, tmp_path: Path, module_name: str
) -> None:
    db = await open_database(
        module_name, resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    await db.run_ddl("CREATE TABLE leaders (pid INTEGER NOT NULL)")
    procs = [_spawn_leader(pg_session_dsn, module_name) for _ in range(2)]
    try:

        async def leader_pids() -> list[int]:
            return [r["pid"] for r in await db.fetch("SELECT pid FROM leaders")]

        async def one_leader() -> bool:
            return len(await leader_pids()) == 1

        await wait_until(one_leader, timeout=60)
        await asyncio.sleep(1.0)
        first = await leader_pids()
        assert len(first) == 1
        assert first[0] in {p.pid for p in procs}
        os.kill(first[0], signal.SIGKILL)

        async def two_leaders() -> bool:
            return len(await leader_pids()) == 2

        await wait_until(two_leaders, timeout=60)
        pids = await leader_pids()
        assert pids[0] == first[0]
        assert pids[1] in {p.pid for p in procs} - {first[0]}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        await db.close()
