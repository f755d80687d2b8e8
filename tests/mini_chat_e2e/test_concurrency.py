"""Many streams at once (CI-3 P8, CI-5): every send is admitted, every turn finalizes exactly once, and the quota
reserve returns to zero. The SQLite writes share one in-process write gate; PostgreSQL locks the quota rows."""

from __future__ import annotations

import asyncio

import pytest

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream

from .harness import ChatServer, credits_used, turn_rows

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(180)]
STREAMS = 24


async def test_concurrent_sends_on_distinct_chats_all_complete(server: ChatServer) -> None:
    chats = [await server.create_chat(model="gpt-4.1-mini") for _ in range(STREAMS)]
    spent_before, _ = await credits_used(server)
    streams = await asyncio.gather(
        *(server.send(chat["id"], f"hi {i} [[mock:lorem=20]]") for i, chat in enumerate(chats))
    )
    for stream in streams:
        assert stream.status == 200, stream.problem
        assert stream.names[-1] == "done", stream.names
        assert is_valid_stream(stream.names)
        assert stream.text
    for chat in chats:
        (row,) = await turn_rows(server, chat["id"])
        assert row["state"] == "completed"
        assert row["settlement_method"] is not None
    spent_after, reserved = await credits_used(server)
    assert reserved == 0
    assert spent_after > spent_before


async def test_concurrent_sends_to_one_chat_admit_exactly_one(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1-mini")
    streams = await asyncio.gather(
        *(server.send(chat["id"], f"race {i} [[mock:lorem=20,latency=5]]") for i in range(8))
    )
    ok = [s for s in streams if s.status == 200]
    refused = [s for s in streams if s.status != 200]
    assert len(ok) >= 1
    assert all(s.status == 409 and s.code == "generation_in_progress" for s in refused), [
        (s.status, s.code) for s in refused
    ]
    rows = await turn_rows(server, chat["id"])
    assert len(rows) == len(ok)
    assert all(r["state"] == "completed" for r in rows)
    _, reserved = await credits_used(server)
    assert reserved == 0
