"""Retry, edit and delete of the latest turn (C-12; C-22 T08, T09-11, T06-06)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream

from .harness import AUTH, BASE, ChatServer, collect, turn_rows, turn_status

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]


async def _turn(server: ChatServer, chat_id: str, content: str) -> str:
    stream = await server.send(chat_id, content)
    assert stream.names[-1] == "done", stream.events
    return str(stream.one("stream_started")["request_id"])


async def test_retry_edit_delete_latest(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    old = await _turn(server, chat["id"], "first question")
    latest = await _turn(server, chat["id"], "second question")
    turns = f"{BASE}/chats/{chat['id']}/turns"

    older = await collect(server.http, "POST", f"{turns}/{old}/retry")  # T08-03
    assert older.status == 409
    assert older.problem is not None
    assert older.code == "not_latest_turn"
    assert (await server.http.delete(f"{turns}/{old}", headers=AUTH)).json()["code"] == "not_latest_turn"

    retried = await collect(server.http, "POST", f"{turns}/{latest}/retry")  # T08-01
    assert retried.status == 200
    assert is_valid_stream(retried.names)
    started = retried.one("stream_started")
    assert started["is_new_turn"] is True
    assert started["request_id"] != latest
    new_id = started["request_id"]
    assert (await turn_status(server, chat["id"], latest)).json()["code"] == "turn_not_found"  # T09-11
    replaced = await collect(
        server.http,
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        {"content": "x", "request_id": latest},
    )
    assert replaced.status == 409  # T06-06
    assert replaced.problem is not None
    assert replaced.code == "request_id_conflict"
    rows = {str(r["request_id"]).replace("-", ""): r for r in await turn_rows(server, chat["id"])}
    assert str(rows[latest.replace("-", "")]["replaced_by_request_id"]).replace("-", "") == new_id.replace(
        "-", ""
    )  # T08-08

    edited = await collect(
        server.http, "PATCH", f"{turns}/{new_id}", {"content": "an edited question"}
    )  # T08-04
    assert edited.status == 200
    assert is_valid_stream(edited.names)
    edit_id = edited.one("stream_started")["request_id"]
    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["first question", "an edited question"]
    blank = await collect(server.http, "PATCH", f"{turns}/{edit_id}", {"content": "  "})
    assert blank.status == 400
    assert blank.problem is not None
    assert blank.code == "validation_error"
    missing_chat = await collect(server.http, "PATCH", f"{BASE}/chats/{uuid.uuid4()}/turns/{edit_id}", {})
    assert missing_chat.problem is not None
    assert missing_chat.code == "chat_not_found"  # chat first, then the body (C-12 order)

    assert (await server.http.delete(f"{turns}/{edit_id}", headers=AUTH)).status_code == 204  # T08-05
    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["first question"]
    assert (await turn_status(server, chat["id"], edit_id)).status_code == 404


async def test_running_turn_cannot_be_mutated(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    turns = f"{BASE}/chats/{chat['id']}/turns"
    request_id = str(uuid.uuid4())
    async with server.http.stream(
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        json={"content": "slow [[mock:lorem=30,latency=50]]", "request_id": request_id},
        headers=AUTH,
    ) as resp:
        lines = resp.aiter_lines()
        async for line in lines:
            if line == "event: delta":
                break
        retry = await collect(server.http, "POST", f"{turns}/{request_id}/retry")  # T08-02
        assert retry.status == 400
        assert retry.problem is not None
        assert retry.code == "invalid_turn_state"
        deleted = await server.http.delete(f"{turns}/{request_id}", headers=AUTH)
        assert deleted.json()["code"] == "invalid_turn_state"
        async for _ in lines:
            pass


async def test_concurrent_retries_one_wins(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    latest = await _turn(server, chat["id"], "retry me")
    results = await asyncio.gather(
        *(collect(server.http, "POST", f"{BASE}/chats/{chat['id']}/turns/{latest}/retry") for _ in range(2))
    )
    statuses = sorted(r.status for r in results)
    assert statuses[0] == 200  # T08-06
    assert statuses[1] in (404, 409)
    live = [r for r in await turn_rows(server, chat["id"]) if r["deleted_at"] is None]
    assert len(live) == 1


async def test_retry_after_cancel(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    request_id = str(uuid.uuid4())
    async with server.http.stream(
        "POST",
        f"{BASE}/chats/{chat['id']}/messages:stream",
        json={"content": "cut [[mock:lorem=200,latency=20]]", "request_id": request_id},
        headers=AUTH,
    ) as resp:
        async for line in resp.aiter_lines():
            if line == "event: delta":
                break
    for _ in range(200):
        if (await turn_status(server, chat["id"], request_id)).json()["state"] != "running":
            break
        await asyncio.sleep(0.02)
    retried = await collect(
        server.http, "POST", f"{BASE}/chats/{chat['id']}/turns/{request_id}/retry"
    )  # T08-07
    assert retried.status == 200
    assert retried.names[-1] == "done"
