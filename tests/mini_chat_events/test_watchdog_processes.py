"""T19.07 / T09.08 (PG): two real server processes share one PostgreSQL database and run the orphan watchdog
against the same stale running turns — each orphan is finalized exactly once, with one usage and one audit event."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from fabrikit.modules.mini_chat.config import MiniChatConfig

from .conftest import EventsEnv
from .test_watchdog import SHORT, assert_orphans_settled_once, hang_turns, release

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dialect() -> str:
    return "postgres"


@pytest.fixture
def config() -> MiniChatConfig:
    return MiniChatConfig(orphan_watchdog=SHORT)


@pytest.mark.parametrize("mode", ["singleton", "race"])
async def test_two_server_processes_finalize_each_orphan_once(
    mode: str, env: EventsEnv, request: pytest.FixtureRequest
) -> None:
    dsn = request.getfixturevalue("pg_session_dsn")
    await env.start()  # delivery only: the watchdogs run in the two child processes
    handles = await hang_turns(env, 4)
    await asyncio.sleep(1.2)  # older than the 1 s timeout by the database clock
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.mini_chat_events.watchdog_proc",
            dsn,
            env.module,
            mode,
            "3",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()[-2000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sum(r["won"] for r in results) == 4, results
    if mode == "singleton":
        assert sorted(r["won"] for r in results) == [0, 4], results  # only the leader scanned
    await release(env, handles)
    await assert_orphans_settled_once(env, 4)
