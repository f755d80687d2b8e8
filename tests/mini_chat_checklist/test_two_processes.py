"""Two real ``fabrikit run`` processes on one PostgreSQL database (C-10, CI-3 P8, CI-11.3;
C-22 T07-04, T06-02, T06-03, T06-04, T06-06 across processes).

One mock-llm runs in the test process; both servers reach it through their own oagw. Server logs go to files.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import yaml

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream
from fabrikit.modules.mock_llm.config import MockLlmConfig
from fabrikit.modules.mock_llm.server import MockLlmServer
from tests.kernel.db.conftest import pg_dsn, pg_unreachable, with_database
from tests.mini_chat_e2e.harness import Stream, server_config

from .support import AUTH, BASE, hexid, sse, stream_path

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(150), pytest.mark.postgres]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(dsn: str, api_port: int, mock_port: int) -> dict[str, Any]:
    """The e2e harness's stack for ``fabrikit run``: one PostgreSQL, a fixed port, and the plugins the harness
    passes in code named here (the CLI discovers them through entry points)."""
    config = server_config(
        mock_port,
        database={
            "servers": {"pg": {"dsn": dsn, "pool": {"min_size": 1, "max_size": 5}}},
            "default_server": "pg",
        },
        gateway={"bind_addr": f"127.0.0.1:{api_port}"},
    )
    for plugin in ("static-authz", "single-tenant", "static-model-policy", "log-audit"):
        config["plugins"][plugin] = {"enabled": True}
    return config


@dataclass
class Cluster:
    urls: list[str]
    mock: MockLlmServer
    dsn: str
    logs: list[Path]

    async def db(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            schema = await connection.fetchval(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'chat_turns'"
            )
            await connection.execute(f'SET search_path TO "{schema}"')
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    def log_tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.logs)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    name = f"fabrikit_two_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(pg_dsn(), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        pg_unreachable(f"{type(exc).__name__}: {exc}")
    yield with_database(pg_dsn(), name)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    async with MockLlmServer(MockLlmConfig(port=0)) as mock:
        mock_port = int(mock.base_url.rsplit(":", 1)[1].split("/")[0])
        procs: list[asyncio.subprocess.Process] = []
        files = []
        urls, logs = [], []
        try:
            for i in range(2):
                home = tmp_path_factory.mktemp(f"proc{i}")
                port = _free_port()
                config = home / "fabrikit.yaml"
                config.write_text(
                    yaml.safe_dump(
                        {"server": {"home_dir": str(home / "home")}, **_config(pg_database, port, mock_port)}
                    )
                )
                log_path = home / "server.log"
                log = log_path.open("wb")
                files.append(log)
                env = {k: v for k, v in os.environ.items() if not k.startswith("FABRIKIT")}
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "fabrikit",
                        "run",
                        "--config",
                        str(config),
                        cwd=home,
                        env=env,
                        stdout=log,  # a file, never an unread pipe
                        stderr=asyncio.subprocess.STDOUT,
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
                logs.append(log_path)
            cluster = Cluster(urls, mock, pg_database, logs)
            deadline = time.monotonic() + 60
            async with httpx.AsyncClient(timeout=2) as http:
                for proc, url in zip(procs, urls, strict=True):
                    while True:
                        if proc.returncode is not None:
                            pytest.fail(f"fabrikit run exited with {proc.returncode}:\n{cluster.log_tail()}")
                        try:
                            if (await http.get(f"{url}/readyz")).status_code == 200:
                                break
                        except httpx.HTTPError:
                            pass
                        assert time.monotonic() < deadline, f"not ready:\n{cluster.log_tail()}"
                        await asyncio.sleep(0.2)
            yield cluster
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.terminate()
            for proc in procs:
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            for f in files:
                f.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clients(cluster: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    a = httpx.AsyncClient(base_url=cluster.urls[0], timeout=30)
    b = httpx.AsyncClient(base_url=cluster.urls[1], timeout=30)
    async with a, b:
        yield [a, b]


async def _chat(http: httpx.AsyncClient) -> str:
    resp = await http.post(f"{BASE}/chats", json={"model": "gpt-4.1-mini"}, headers=AUTH)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _send(http: httpx.AsyncClient, chat: str, content: str, **body: Any) -> Stream:
    return await sse(http, "POST", stream_path(chat), {"content": content, **body})


async def _outbox_total(cluster: Cluster) -> int:
    (row,) = await cluster.db(
        "SELECT (SELECT COALESCE(SUM(sequence), 0) FROM modkit_outbox_partitions) + "
        "(SELECT COUNT(*) FROM modkit_outbox_incoming) AS n"
    )
    return int(row["n"])


async def _quota(cluster: Cluster) -> list[tuple[Any, ...]]:
    rows = await cluster.db("SELECT * FROM quota_usage ORDER BY id")
    return [
        (r["bucket"], r["period_type"], r["spent_credits_micro"], r["reserved_credits_micro"]) for r in rows
    ]


async def test_two_processes_race_one_chat(cluster: Cluster, clients: list[httpx.AsyncClient]) -> None:
    """T07-04: the same chat, one send through each process at the same moment: exactly one stream, one 409
    ``generation_in_progress``; the partial unique index across processes leaves one running turn (T07-01)."""
    a, b = clients
    for round_ in range(3):
        chat = await _chat(a)
        results = await asyncio.gather(
            *(
                _send(http, chat, f"race {round_} {i} [[mock:lorem=40,latency=25]]")
                for i, http in enumerate((a, b))
            )
        )
        assert sorted(r.status for r in results) == [200, 409], [(r.status, r.problem) for r in results]
        (loser,) = [r for r in results if r.status == 409]
        assert loser.code == "generation_in_progress"
        (winner,) = [r for r in results if r.status == 200]
        assert winner.names[-1] == "done"
        assert is_valid_stream(winner.names)
        turns = await cluster.db("SELECT state FROM chat_turns WHERE chat_id = $1", uuid.UUID(chat))
        assert [t["state"] for t in turns] == ["completed"]


async def test_same_request_id_through_both_processes(
    cluster: Cluster, clients: list[httpx.AsyncClient]
) -> None:
    """The same ``request_id`` at once through both processes names one turn: one stream, one 409."""
    a, b = clients
    chat = await _chat(a)
    request_id = str(uuid.uuid4())
    results = await asyncio.gather(
        *(_send(http, chat, "same id [[mock:lorem=40,latency=25]]", request_id=request_id) for http in (a, b))
    )
    assert sorted(r.status for r in results) == [200, 409], [(r.status, r.problem) for r in results]
    (loser,) = [r for r in results if r.status == 409]
    assert loser.code in ("request_id_conflict", "generation_in_progress")
    turns = await cluster.db("SELECT request_id FROM chat_turns WHERE chat_id = $1", uuid.UUID(chat))
    assert [hexid(t["request_id"]) for t in turns] == [hexid(request_id)]


async def test_replay_and_conflicts_across_processes(
    cluster: Cluster, clients: list[httpx.AsyncClient]
) -> None:
    """T06-02/03 across processes: a turn completed through A replays through B (and A) identically, with no
    provider call, no quota change and no outbox row. T06-04: its id while running through the other process →
    409 ``request_id_conflict``. T06-06: once retried, the replaced id → 409 through either process."""
    a, b = clients
    chat = await _chat(a)
    request_id = str(uuid.uuid4())
    async with a.stream(
        "POST",
        stream_path(chat),
        json={"content": "original [[mock:lorem=30,latency=20]]", "request_id": request_id},
        headers=AUTH,
    ) as resp:
        assert resp.status_code == 200
        lines = resp.aiter_lines()
        async for line in lines:
            if line == "event: delta":
                break
        running = await _send(b, chat, "original", request_id=request_id)
        assert (running.status, running.code) == (409, "request_id_conflict")
        other = await _send(b, chat, "another")
        assert (other.status, other.code) == (409, "generation_in_progress")
        raw = [line async for line in lines]
    assert "event: done" in raw

    await asyncio.sleep(
        0.5
    )  # let the finalization's outbox rows be sequenced; the counter includes both anyway
    calls = len(cluster.mock.requests(path_prefix="/v1/responses"))
    quota, outbox = await _quota(cluster), await _outbox_total(cluster)
    (chat_row,) = await cluster.db("SELECT updated_at FROM chats WHERE id = $1", uuid.UUID(chat))
    replays = [await _send(http, chat, "ignored", request_id=request_id) for http in (b, a, b)]
    for replay in replays:
        assert replay.names == ["stream_started", "delta", "done"], replay.names
        assert replay.one("stream_started")["is_new_turn"] is False
    assert len({tuple(e.data for e in r.events) for r in replays}) == 1  # T06-03: identical
    assert len(cluster.mock.requests(path_prefix="/v1/responses")) == calls  # T06-02: no provider call…
    assert await _quota(cluster) == quota  # …no quota change…
    assert await _outbox_total(cluster) == outbox  # …no outbox row
    assert (await cluster.db("SELECT updated_at FROM chats WHERE id = $1", uuid.UUID(chat)))[0] == chat_row

    retried = await sse(a, "POST", f"{BASE}/chats/{chat}/turns/{request_id}/retry")
    assert retried.status == 200
    assert retried.names[-1] == "done"
    for http in (a, b):
        replaced = await _send(http, chat, "original", request_id=request_id)
        assert (replaced.status, replaced.code) == (409, "request_id_conflict")
