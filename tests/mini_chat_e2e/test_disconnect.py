"""Client disconnect and shutdown (C-9.5, C-9.6, CI-4.4, CI-4.7; C-22 T21-01/03/05, T09-06)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from .harness import AUTH, BASE, ChatServer, chat_server, collect, credits_used, provider_record, wait_state

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]


async def _read_until_deltas(resp: httpx.Response | AsyncIterator[str], n: int) -> tuple[str, list[str]]:
    """Reads raw SSE lines until ``n`` deltas arrived; returns (request_id, delta payloads)."""
    import json

    request_id = ""
    deltas: list[str] = []
    event = ""
    lines = resp.aiter_lines() if isinstance(resp, httpx.Response) else resp
    async for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            if event == "stream_started":
                request_id = data["request_id"]
            elif event == "delta":
                deltas.append(data["content"])
                if len(deltas) >= n:
                    return request_id, deltas
    raise AssertionError("the stream ended before enough deltas arrived")


async def test_disconnect_cancels_keeps_partial_and_closes_upstream(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    marker = uuid.uuid4().hex
    spent_before, reserved_before = await credits_used(server)
    async with server.http.stream(
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        json={"content": f"{marker} [[mock:lorem=400,latency=20]]"},
        headers=AUTH,
    ) as resp:
        assert resp.status_code == 200
        request_id, deltas = await _read_until_deltas(resp, 3)
    # Leaving the block closed the connection mid-stream: the client is gone.
    status = await wait_state(server, chat["id"], request_id)
    assert status["state"] == "cancelled"  # T21-01
    assert "error_code" not in status
    assert "assistant_message_id" not in status

    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"]
    assert [m["role"] for m in messages] == ["user", "assistant"]  # T09-06: partial text kept and listed
    partial = messages[1]["content"]
    assert partial.startswith("".join(deltas))
    assert len(partial.split()) < 400

    for _ in range(100):  # mock-llm notices the closed upstream connection (CI-4.6)
        record = provider_record(server, marker)
        if record["outcome"]["disconnected"]:
            break
        await asyncio.sleep(0.05)
    assert record["outcome"]["disconnected"] is True
    assert record["outcome"]["terminal"] is None
    spent_after, reserved_after = await credits_used(server)
    assert reserved_after == reserved_before  # settled once: the reserve is gone…
    assert spent_after > spent_before  # …and the estimate or actual usage is charged
    rows = await server.module.engine.store.db.fetch("SELECT state FROM chat_turns")  # type: ignore[union-attr]
    assert all(r["state"] != "running" for r in rows)


async def test_disconnect_before_first_delta(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    marker = uuid.uuid4().hex
    async with server.http.stream(
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        json={"content": f"{marker} [[mock:lorem=5,ttft=3000]]"},
        headers=AUTH,
    ) as resp:
        first = await anext(resp.aiter_lines())
        assert first == "event: stream_started"
        await asyncio.sleep(0.3)
    turns = await server.module.engine.store.db.fetch("SELECT * FROM chat_turns")  # type: ignore[union-attr]
    (request_id,) = [
        str(t["request_id"])
        for t in turns
        if str(t["chat_id"]).replace("-", "") == chat["id"].replace("-", "")
    ]
    status = await wait_state(server, chat["id"], str(uuid.UUID(request_id)))
    assert status["state"] == "cancelled"
    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"]
    assert [m["role"] for m in messages] == ["user"]  # T09-07: an empty cancel stores no answer


async def test_shutdown_mid_stream_ends_with_stream_interrupted(
    database: dict[str, Any] | None, tmp_path: Any
) -> None:
    """T21-03: the REST host drains; the turn is finalized ``cancelled`` and the client reads
    ``error {code: "stream_interrupted"}``; a restarted server reports the stored state."""
    events: list[str] = []
    async with chat_server(database, home=tmp_path) as s:
        chat = await s.create_chat(model="gpt-4.1-mini")
        http = httpx.AsyncClient(base_url=s.harness.base_url, timeout=30)
        async with (
            http,
            http.stream(
                "POST",
                f"{BASE}/chats/{chat['id']}/messages:stream",
                json={"content": "long [[mock:lorem=2000,latency=20]]"},
                headers=AUTH,
            ) as resp,
        ):
            lines = resp.aiter_lines()
            request_id, _ = await _read_until_deltas(lines, 2)
            stopper = asyncio.create_task(s.harness.__aexit__(None, None, None))
            rest = [line async for line in lines]
            await stopper
    events = [line for line in rest if line.startswith("event: ")]
    assert events[-1] == "event: error", events
    assert '"code":"stream_interrupted"' in rest[rest.index("event: error") + 1]
    async with chat_server(database, home=tmp_path) as s2:
        status = (await s2.http.get(f"{BASE}/chats/{chat['id']}/turns/{request_id}", headers=AUTH)).json()
        assert status["state"] == "cancelled"


async def test_replay_after_disconnect_is_conflict(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    request_id = str(uuid.uuid4())
    async with server.http.stream(
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        json={"content": "bye [[mock:lorem=100,latency=20]]", "request_id": request_id},
        headers=AUTH,
    ) as resp:
        await _read_until_deltas(resp, 1)
    assert (await wait_state(server, chat["id"], request_id))["state"] == "cancelled"
    again = await collect(
        server.http,
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        {"content": "x", "request_id": request_id},
    )
    assert again.status == 409  # T06-04: cancelled ids never replay
