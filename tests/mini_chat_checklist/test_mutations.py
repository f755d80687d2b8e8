"""Edit and retry of the latest turn over HTTP (C-12, CI-11; C-22 T08-04, T08-07). T08-10 is in test_quota."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream

from .support import (
    AUTH,
    BASE,
    Server,
    chat_turn_rows,
    checklist_server,
    hexid,
    messages,
    read_events,
    sse,
    stream_path,
    turn_row,
    wait_state,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database) as s:
        yield s


def _user_texts(call: dict[str, Any]) -> list[str]:
    return [
        part["text"]
        for item in call["json"]["input"]
        if item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text"
    ]


async def test_edit_streams_like_a_send(server: Server) -> None:
    """T08-04: an edit answers with the same SSE shape as a send — headers, ``stream_started`` with a new
    server-generated ``request_id`` and ``is_new_turn: true``, deltas, a ``done`` with the same fields — and the
    provider sees the new content, not the replaced one."""
    chat = await server.chat()
    sent = await server.stream(chat, "first question [[mock:lorem=4]]")
    old_id = sent.one("stream_started")["request_id"]
    marker = uuid.uuid4().hex
    edited = await sse(
        server.http,
        "PATCH",
        f"{BASE}/chats/{chat}/turns/{old_id}",
        {"content": f"edited {marker} [[mock:lorem=4]]"},
    )
    assert edited.status == 200, edited.problem
    for header in ("content-type", "cache-control", "x-accel-buffering"):
        assert edited.headers[header] == sent.headers[header], header
    assert is_valid_stream(edited.names), edited.names
    assert edited.names == sent.names
    started = edited.one("stream_started")
    assert set(started) == set(sent.one("stream_started"))
    assert started["is_new_turn"] is True
    new_id = started["request_id"]
    assert new_id != old_id
    assert uuid.UUID(new_id).version == 4  # server-generated (C-12.3)
    assert set(edited.one("done")) == set(sent.one("done"))
    assert len(edited.data("delta")) == 4

    (call,) = [c for c in server.provider_calls() if marker in str(c["json"])]
    assert _user_texts(call) == [f"edited {marker} [[mock:lorem=4]]"]  # the replaced question is gone
    listed = await messages(server, chat)
    assert [(m["role"], m["request_id"]) for m in listed] == [("user", new_id), ("assistant", new_id)]
    assert listed[0]["content"] == f"edited {marker} [[mock:lorem=4]]"
    assert listed[1]["id"] == started["message_id"]
    assert listed[1]["content"] == edited.text
    old = await turn_row(server, old_id)
    assert old["deleted_at"] is not None
    assert hexid(old["replaced_by_request_id"]) == hexid(new_id)
    status = (await server.http.get(f"{BASE}/chats/{chat}/turns/{new_id}", headers=AUTH)).json()
    assert (status["state"], status["assistant_message_id"]) == ("done", started["message_id"])


async def test_retry_after_cancel_replaces_the_cancelled_turn(server: Server) -> None:
    """T08-07: a cancelled latest turn (partial answer kept) can be retried: a new turn with the old question,
    the cancelled turn and its partial answer replaced, its settlement untouched, the new one settled once."""
    chat = await server.chat()
    marker = uuid.uuid4().hex
    question = f"{marker} [[mock:lorem=60,latency=20]]"
    async with server.http.stream(
        "POST", stream_path(chat), json={"content": question}, headers=AUTH
    ) as resp:
        old_id = str((await read_events(resp.aiter_lines(), "delta", 2))[0][1]["request_id"])
    assert (await wait_state(server, chat, old_id))["state"] == "cancelled"
    partial = await messages(server, chat)
    assert [m["role"] for m in partial] == ["user", "assistant"]
    cancelled = await turn_row(server, old_id)

    retried = await sse(server.http, "POST", f"{BASE}/chats/{chat}/turns/{old_id}/retry")
    assert retried.status == 200, retried.problem
    assert is_valid_stream(retried.names)
    assert retried.names[-1] == "done"
    started = retried.one("stream_started")
    assert started["is_new_turn"] is True
    new_id = started["request_id"]
    assert new_id != old_id
    assert len(retried.data("delta")) == 60

    retry_call = [c for c in server.provider_calls() if marker in str(c["json"])][-1]
    assert _user_texts(retry_call) == [question]  # same question, once; the partial answer is not history
    assert not [i for i in retry_call["json"]["input"] if i.get("role") == "assistant"]
    listed = await messages(server, chat)
    assert [(m["role"], m["request_id"]) for m in listed] == [("user", new_id), ("assistant", new_id)]
    assert listed[0]["content"] == question
    assert listed[1]["content"] == retried.text
    assert (await server.http.get(f"{BASE}/chats/{chat}/turns/{old_id}", headers=AUTH)).status_code == 404
    rows = {hexid(r["request_id"]): r for r in await chat_turn_rows(server, chat)}
    old = rows[hexid(old_id)]
    assert (old["state"], hexid(old["replaced_by_request_id"])) == ("cancelled", hexid(new_id))
    assert old["deleted_at"] is not None
    assert old["committed_credits_micro"] == cancelled["committed_credits_micro"]  # its settlement stands
    new = rows[hexid(new_id)]
    assert (new["state"], new["settlement_method"]) == ("completed", "actual")
