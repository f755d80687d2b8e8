"""Sending a message over SSE: C-8, C-9, C-10, C-11 (C-22 T04, T05, T06, T07, T09, T17)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream

from .harness import (
    AUTH,
    BASE,
    MOCK_KEY,
    OTHER_USER,
    ChatServer,
    assert_no_provider_ids,
    collect,
    credits_used,
    turn_rows,
    turn_status,
    wait_state,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(180)]
DONE_FIELDS = {"usage", "effective_model", "selected_model", "quota_decision", "quota_warnings"}


def stream_path(chat_id: str) -> str:
    return f"{BASE}/chats/{chat_id}/messages:stream"


async def test_minimal_send_stream_shape_and_storage(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    marker = uuid.uuid4().hex
    stream = await server.send(chat["id"], f"hello {marker} [[mock:lorem=5]]")  # T04-01
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"  # C-9.1
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    assert is_valid_stream(stream.names), stream.names  # T05-12
    started = stream.data("stream_started")[0]  # T05-01
    assert stream.names[0] == "stream_started"
    assert started["is_new_turn"] is True
    assert uuid.UUID(started["request_id"]).version == 4  # T04-02
    deltas = stream.data("delta")
    assert len(deltas) == 5
    assert all(set(d) == {"type", "content"} and d["type"] == "text" for d in deltas)
    done = stream.one("done")  # T05-06, T05-09
    assert set(done) >= DONE_FIELDS
    assert not any("message" in k for k in done)
    assert done["selected_model"] == done["effective_model"] == "gpt-4.1-mini"
    assert done["quota_decision"] == "allow"
    assert "completion_signal" not in done
    usage = done["usage"]
    assert usage["model"] == "gpt-4.1-mini"
    assert usage["output_tokens"] == 5
    assert usage["input_tokens"] > 0
    assert {w["tier"] for w in done["quota_warnings"]} >= {"total"}  # T05-07
    for w in done["quota_warnings"]:
        assert {"tier", "period", "remaining_percentage", "warning", "exhausted"} <= set(w)
    assert_no_provider_ids(stream)  # T05-05

    status = (await turn_status(server, chat["id"], started["request_id"])).json()  # T09-05, T09-10
    assert status["state"] == "done"
    assert status["assistant_message_id"] == started["message_id"]
    assert "error_code" not in status
    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"]
    user, answer = messages  # T04-08
    assert user["content"] == f"hello {marker} [[mock:lorem=5]]"
    assert answer["id"] == started["message_id"]
    assert answer["content"] == stream.text
    assert answer["input_tokens"] == usage["input_tokens"]
    assert answer["output_tokens"] == 5
    assert answer["model"] == "gpt-4.1-mini"
    got = (await server.http.get(f"{BASE}/chats/{chat['id']}", headers=AUTH)).json()
    assert got["message_count"] == 2
    assert got["updated_at"] > chat["updated_at"]
    # The provider key comes from credstore through oagw's apikey plugin; the caller's token never leaves.
    call = next(c for c in server.provider_calls() if marker in str(c.get("json")))
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert headers["authorization"] == f"Bearer {MOCK_KEY}"
    assert AUTH["Authorization"] not in headers.values()


async def test_client_request_id_and_credits_formula(server: ChatServer) -> None:
    for model, mult_in, mult_out in (("gpt-4.1-mini", 1, 3), ("gpt-4.1", 3, 15)):
        chat = await server.create_chat(model=model)
        request_id = str(uuid.uuid4())
        spent_before, _ = await credits_used(server)
        premium_before, _ = await credits_used(server, "tier:premium")
        stream = await server.send(chat["id"], "count my credits [[mock:lorem=7]]", request_id=request_id)
        assert stream.one("stream_started")["request_id"] == request_id  # T04-03
        usage = stream.one("done")["usage"]
        expected = usage["input_tokens"] * mult_in + usage["output_tokens"] * mult_out
        spent_after, reserved_after = await credits_used(server)
        assert spent_after - spent_before == expected  # the charge equals the formula for the reported usage
        premium_after, _ = await credits_used(server, "tier:premium")
        assert premium_after - premium_before == (expected if model == "gpt-4.1" else 0)
        assert reserved_after == 0  # settled exactly once, nothing left reserved
        (row,) = await turn_rows(server, chat["id"])
        assert row["state"] == "completed"
        assert int(row["committed_credits_micro"]) == expected


async def test_send_rejections_leave_no_trace(server: ChatServer) -> None:
    chat = await server.create_chat()
    calls = len(server.provider_calls())
    path = stream_path(chat["id"])
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 400, "validation_error"),  # T04-06
        ({"content": "   "}, 400, "validation_error"),
        ({"content": 5}, 400, "validation_error"),
        ({"content": "x", "request_id": "nope"}, 400, "validation_error"),
        ({"content": "x", "attachment_ids": [str(uuid.uuid4())]}, 400, "invalid_attachment"),  # T04-05
        ({"content": "x", "attachment_ids": [str(uuid.uuid4()) for _ in range(21)]}, 400, "validation_error"),
        ({"content": "x", "attachment_ids": [str(uuid.UUID(int=7))] * 2}, 400, "validation_error"),  # T04-09
    ]
    for body, status, code in cases:
        stream = await collect(server.http, "POST", path, body)
        assert stream.status == status, (body, stream)
        assert stream.problem is not None
        assert stream.code == code, (body, stream.problem)  # T17-01
        assert stream.headers["content-type"].startswith("application/problem+json")
    malformed = await server.http.post(
        path, content=b"{", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "invalid_json"
    for missing in (str(uuid.uuid4()), "not-a-uuid"):  # T04-07
        stream = await collect(server.http, "POST", stream_path(missing), {"content": "x"})
        assert stream.status == 404
        assert stream.problem is not None
        assert stream.code == "chat_not_found"
    other = await server.http.post(path, json={"content": "x"}, headers=OTHER_USER)  # T17-06
    assert other.status_code == 404
    assert other.json()["code"] == "chat_not_found"
    assert await turn_rows(server, chat["id"]) == []  # C-8.1, T09-02: no turn, no message
    assert (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()["items"] == []
    assert len(server.provider_calls()) == calls


async def test_replay_is_identical_and_side_effect_free(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    request_id = str(uuid.uuid4())
    first = await server.send(chat["id"], "remember me [[mock:lorem=4]]", request_id=request_id)
    assert first.names[-1] == "done"
    calls = len(server.provider_calls())
    quota = await credits_used(server)
    chat_before = (await server.http.get(f"{BASE}/chats/{chat['id']}", headers=AUTH)).json()

    replays = [
        await server.send(chat["id"], "remember me [[mock:lorem=4]]", request_id=request_id) for _ in range(2)
    ]
    for replay in replays:
        assert replay.names == ["stream_started", "delta", "done"]  # C-10.2
        started = replay.one("stream_started")
        assert started == {
            "request_id": request_id,
            "message_id": first.one("stream_started")["message_id"],
            "is_new_turn": False,
        }  # T06-01
        assert replay.one("delta") == {"type": "text", "content": first.text}
        done = replay.one("done")
        assert done["usage"] == first.one("done")["usage"]
        assert "quota_warnings" not in done
    assert [e.data for e in replays[0].events] == [e.data for e in replays[1].events]  # T06-03
    assert len(server.provider_calls()) == calls  # T06-02: no provider call
    assert await credits_used(server) == quota
    assert (await server.http.get(f"{BASE}/chats/{chat['id']}", headers=AUTH)).json() == chat_before
    assert len(await turn_rows(server, chat["id"])) == 1


async def test_running_conflicts_and_replay_beats_running_guard(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    done_id = str(uuid.uuid4())
    assert (await server.send(chat["id"], "first [[mock:lorem=2]]", request_id=done_id)).names[-1] == "done"

    slow_id = str(uuid.uuid4())
    async with server.http.stream(
        "POST",
        stream_path(chat["id"]),
        json={"content": "slow [[mock:lorem=40,latency=50]]", "request_id": slow_id},
        headers=AUTH,
    ) as resp:
        assert resp.status_code == 200
        lines = resp.aiter_lines()
        async for line in lines:
            if line.startswith("event: delta"):
                break
        rows = {r["request_id"]: r for r in await turn_rows(server, chat["id"])}  # T09-01
        assert [r["state"] for r in rows.values()].count("running") == 1
        assert (await turn_status(server, chat["id"], slow_id)).json()["state"] == "running"

        same = await collect(
            server.http, "POST", stream_path(chat["id"]), {"content": "slow", "request_id": slow_id}
        )
        assert same.status == 409
        assert same.code == "request_id_conflict"
        other = await collect(server.http, "POST", stream_path(chat["id"]), {"content": "again"})
        assert other.status == 409
        assert other.code == "generation_in_progress"
        replay = await collect(
            server.http, "POST", stream_path(chat["id"]), {"content": "first", "request_id": done_id}
        )
        assert replay.status == 200
        assert replay.one("stream_started")["is_new_turn"] is False
        async for _ in lines:
            pass
    assert (await wait_state(server, chat["id"], slow_id))["state"] == "done"
    after = await server.send(chat["id"], "a new turn after the terminal one")  # T07-03
    assert after.names[-1] == "done"


async def test_two_simultaneous_sends_one_wins(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    results = await asyncio.gather(
        *(
            collect(
                server.http,
                "POST",
                stream_path(chat["id"]),
                {"content": f"race {i} [[mock:lorem=20,latency=20]]"},
            )
            for i in range(2)
        )
    )
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 409], [(r.status, r.problem) for r in results]  # T07-02, T07-01
    loser = next(r for r in results if r.status == 409)
    assert loser.problem is not None
    assert loser.code == "generation_in_progress"
    winner = next(r for r in results if r.status == 200)
    assert winner.names[-1] == "done"
    assert len(await turn_rows(server, chat["id"])) == 1


async def test_racing_sends_never_break_the_winner(server: ChatServer) -> None:
    """A send refused (409) while the other turn finalizes must not disturb that finalization (C-8.1, CI-5)."""
    for _ in range(3):
        chat = await server.create_chat(model="gpt-4.1-mini")
        results = await asyncio.gather(
            *(
                collect(server.http, "POST", stream_path(chat["id"]), {"content": f"quick {i}"})
                for i in range(3)
            )
        )
        for result in results:
            if result.status == 200:
                assert result.names[-1] == "done", result.events
            else:
                assert result.code == "generation_in_progress"


async def test_provider_errors_become_sse_errors(server: ChatServer) -> None:
    cases = [
        ("[[mock:lorem=10,fail_after=3]]", "provider_error", 3),  # mid-stream failure, T17-02
        ("[[mock:lorem=10,drop_after=2]]", "provider_error", 2),  # truncated stream, T17-04
        ("[[mock:error=500]]", "provider_error", 0),
        ("[[mock:error=429]]", "rate_limited", 0),  # T17-05
    ]
    for directive, code, deltas in cases:
        chat = await server.create_chat(model="gpt-4.1-mini")
        before = await credits_used(server)
        stream = await server.send(chat["id"], f"break {directive}")
        assert is_valid_stream(stream.names), stream.names
        assert stream.names[-1] == "error", (directive, stream.names)
        assert len(stream.data("delta")) == deltas, (directive, stream.names)
        error = stream.one("error")  # T05-10
        assert set(error) == {"code", "message"}, error
        assert error["code"] == code, (directive, error)
        assert "http://" not in error["message"]
        assert "Bearer" not in error["message"]
        assert_no_provider_ids(stream)
        request_id = stream.one("stream_started")["request_id"]
        status = (await turn_status(server, chat["id"], request_id)).json()  # T09-10
        assert status == {
            "request_id": request_id,
            "state": "error",
            "error_code": code,
            "updated_at": status["updated_at"],
        }
        messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages", headers=AUTH)).json()[
            "items"
        ]
        assert [m["role"] for m in messages] == ["user"]  # T09-07: no assistant message on failure
        again = await collect(
            server.http, "POST", stream_path(chat["id"]), {"content": "x", "request_id": request_id}
        )
        assert again.status == 409
        assert again.code == "request_id_conflict"
        assert (await credits_used(server))[1] == before[1]  # nothing left reserved


async def test_incomplete_answer_has_completion_signal(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    stream = await server.send(chat["id"], "stop early [[mock:lorem=6,incomplete]]")
    done = stream.one("done")
    assert done["completion_signal"] == {"kind": "incomplete", "reason": "max_tokens"}  # T05-14
    status = (await turn_status(server, chat["id"], stream.one("stream_started")["request_id"])).json()
    assert status["state"] == "done"


async def test_web_search_tools_and_citations(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1")
    stream = await server.send(
        chat["id"], "search please [[mock:tools=web_search,lorem=3]]", web_search={"enabled": True}
    )
    assert is_valid_stream(stream.names), stream.names
    tools = stream.data("tool")  # T05-03
    assert tools == [
        {"phase": "start", "name": "web_search", "details": {}},
        {"phase": "done", "name": "web_search", "details": {}},
    ]
    names = stream.names
    if "citations" in names:  # T05-04: after every delta, right before done
        assert names.index("citations") == len(names) - 2
        for item in stream.one("citations")["items"]:
            assert item["source"] == "web"
            assert item["url"].startswith("https://example.com/")
            assert "attachment_id" not in item
    assert_no_provider_ids(stream)


async def test_turn_status_unknown(server: ChatServer) -> None:
    chat = await server.create_chat()
    for rid in (str(uuid.uuid4()), "not-a-uuid"):
        resp = await turn_status(server, chat["id"], rid)
        assert resp.status_code == 404
        assert resp.json()["code"] == "turn_not_found"


@pytest.mark.slow
async def test_ping_before_first_delta_and_keepalive_comment(server: ChatServer) -> None:
    """ping every 5 s until content (T05-11); `: keep-alive` after 10 s of silence (T05-15)."""
    chat = await server.create_chat(model="gpt-4.1-mini")
    raw = b""
    async with server.http.stream(
        "POST",
        stream_path(chat["id"]),
        json={"content": "wait [[mock:lorem=2,ttft=5600,latency=10600]]"},
        headers=AUTH,
    ) as resp:
        async for chunk in resp.aiter_bytes():
            raw += chunk
    text = raw.decode()
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b]
    names = [b.split("\n")[0] for b in blocks]
    assert names[:3] == ["event: stream_started", "event: ping", "event: delta"], names
    assert "data: {}" in blocks[1]
    assert names[3] == ": keep-alive", names
    assert names[-1] == "event: done"
    assert "id:" not in text


async def test_zz_no_turn_left_running(server: ChatServer) -> None:
    """Whatever happened above, every request ended with a terminal turn."""
    await asyncio.sleep(0.2)
    db = server.module.engine.store.db  # type: ignore[union-attr]
    rows = await db.fetch("SELECT state FROM chat_turns")
    assert rows
    assert all(r["state"] != "running" for r in rows)


def _json(value: Any) -> str:
    return json.dumps(value)
