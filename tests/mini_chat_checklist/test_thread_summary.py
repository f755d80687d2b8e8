"""Thread summaries end to end (CI-9): the trigger in the finalizer, the outbox task calling mock-llm without
streaming, the frontier stored, the next turn's context built from it, the system UsageEvent (C-19), and
invalidation when a summarized turn is deleted (CI-9.5).

The chats use the catalog's 4k-context model and ``trigger_pct=1``: every turn with an older message triggers a
summary. mock-llm's script queue answers the calls: the chat turn first, the summary call second (FIFO).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from fabrikit.modules.mini_chat.domain.context import SUMMARY_PREAMBLE
from fabrikit.modules.mini_chat.domain.summary import DEFAULT_SUMMARY_PROMPT
from tests.mini_chat_e2e.harness import AUTH, BASE

from .support import Server, checklist_server

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
TINY = "gpt-4.1-mini-tiny-ctx"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database, mini_chat={"thread_summary": {"trigger_pct": 1}}) as s:
        yield s


def _norm(value: Any) -> str:
    return str(value).replace("-", "").lower()


async def _script(s: Server, *items: dict[str, Any]) -> None:
    resp = await s.http.post(f"{s.mock.base_url}/_mock/script", json={"items": list(items)})
    assert resp.status_code == 204, resp.text


async def _summary_row(
    s: Server, chat_id: str, *, after: Any = None, timeout: float = 15.0
) -> dict[str, Any]:
    """The chat's summary row once it exists (and differs from ``after``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rows = [
            r
            for r in await s.db.fetch("SELECT * FROM thread_summaries")
            if _norm(r["chat_id"]) == _norm(chat_id)
        ]
        if rows and rows[0]["summary_text"] != after:
            return dict(rows[0])
        assert loop.time() < deadline, "no thread summary was stored"
        await asyncio.sleep(0.05)


async def _messages(s: Server, chat_id: str) -> list[dict[str, Any]]:
    rows = await s.db.fetch("SELECT * FROM messages ORDER BY created_at, id")
    return [dict(r) for r in rows if _norm(r["chat_id"]) == _norm(chat_id)]


def _summary_calls(s: Server) -> list[dict[str, Any]]:
    return [
        c for c in s.provider_calls() if c["json"].get("metadata", {}).get("request_type") == "thread_summary"
    ]


def _texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for item in body["input"]:
        parts = item["content"]
        out.append(
            (item["role"], parts if isinstance(parts, str) else "".join(p.get("text", "") for p in parts))
        )
    return out


async def test_a_summary_is_built_stored_and_used_by_the_next_turn(server: Server) -> None:
    s = server
    chat = await s.chat(TINY)
    alpha, beta, gamma = (uuid.uuid4().hex for _ in range(3))
    first = await s.stream(chat, f"remember {alpha} [[mock:lorem=3]]")
    assert first.names[-1] == "done"
    calls_before = len(_summary_calls(s))

    summary_text = f"The user asked to remember {alpha}."
    await _script(
        s,
        {"text": f"noted {beta}"},  # the second turn's answer
        {"text": f"<analysis>two turns so far</analysis>\n<summary>\n{summary_text}\n\n\n\n</summary>"},
    )
    second = await s.stream(chat, f"and {beta}")
    assert second.names[-1] == "done"

    row = await _summary_row(s, chat)
    assert row["summary_text"] == summary_text  # only the <summary> content, trimmed
    first_messages = [
        m
        for m in await _messages(s, chat)
        if _norm(m["request_id"]) == _norm(first.one("stream_started")["request_id"])
    ]
    assistant_1 = next(m for m in first_messages if m["role"] == "assistant")
    assert _norm(row["summarized_up_to_message_id"]) == _norm(assistant_1["id"])  # strictly before turn 2
    compressed = {_norm(m["id"]): bool(m["is_compressed"]) for m in await _messages(s, chat)}
    assert all(compressed[_norm(m["id"])] for m in first_messages)
    assert not any(compressed[_norm(m["id"])] for m in await _messages(s, chat) if m not in first_messages)

    (call,) = _summary_calls(s)[calls_before:]
    body = call["json"]
    assert body["stream"] is False
    assert body["instructions"] == DEFAULT_SUMMARY_PROMPT
    ((role, text),) = _texts(body)
    assert role == "user"
    assert text.startswith(f"user: remember {alpha}")
    assert "\n\nassistant: " in text
    assert beta not in text  # the latest turn is never summarized

    third = await s.stream(chat, f"now {gamma} [[mock:lorem=2]]")
    assert third.names[-1] == "done"
    (turn3,) = [c for c in s.provider_calls() if gamma in str(c["json"].get("input"))]
    history = _texts(turn3["json"])
    assert history[0] == ("user", f"{SUMMARY_PREAMBLE}\n\n{summary_text}")
    assert not any(alpha in text for _, text in history[1:])  # turn 1 only through the summary
    assert [role for role, _ in history[1:]] == ["user", "assistant", "user"]  # turn 2, then this message

    # The system task's UsageEvent (C-19): no credits, no settlement, the tokens the call used.
    events = [e for e in s.usage.deliveries if e.requester_type == "system" and e.chat_id == uuid.UUID(chat)]
    deadline = asyncio.get_running_loop().time() + 15
    while not events:
        assert asyncio.get_running_loop().time() < deadline, "no system usage event was published"
        await asyncio.sleep(0.05)
        events = [
            e for e in s.usage.deliveries if e.requester_type == "system" and e.chat_id == uuid.UUID(chat)
        ]
    event = events[0]
    assert (event.billing_outcome, event.settlement_method, event.system_task_type) == (
        "system_task",
        "none",
        "thread_summary_update",
    )
    assert event.committed_credits_micro == event.actual_credits_micro == 0
    assert event.user_id is None
    assert event.turn_id is None
    tenant_hex, task, request_hex = event.dedupe_key.split("/")
    assert (task, request_hex) == ("thread_summary_update", event.request_id.hex)
    assert tenant_hex == event.tenant_id.hex
    assert event.usage is not None
    assert event.usage.output_tokens > 0


async def test_an_answer_without_a_summary_block_is_retried(server: Server) -> None:
    s = server
    chat = await s.chat(TINY)
    first = await s.stream(chat, "one [[mock:lorem=2]]")
    assert first.names[-1] == "done"
    await _script(
        s,
        {"text": "two"},
        {"text": "I cannot summarize that."},  # malformed: no <summary> → Retry
        {"text": "<summary>recovered</summary>"},
    )
    second = await s.stream(chat, "two")
    assert second.names[-1] == "done"
    row = await _summary_row(s, chat, timeout=30)
    assert row["summary_text"] == "recovered"


async def test_deleting_a_summarized_turn_drops_the_summary(server: Server) -> None:
    s = server
    chat = await s.chat(TINY)
    first = await s.stream(chat, "alpha [[mock:lorem=2]]")
    await _script(s, {"text": "beta answer"}, {"text": "<summary>alpha and beta</summary>"})
    second = await s.stream(chat, "beta")
    assert second.names[-1] == "done"
    await _summary_row(s, chat)
    # Only the latest turn can be deleted: delete turn 2, then turn 1, which the summary covers (CI-9.5).
    for stream in (second, first):
        request_id = stream.one("stream_started")["request_id"]
        resp = await s.http.delete(f"{BASE}/chats/{chat}/turns/{request_id}", headers=AUTH)
        assert resp.status_code == 204, resp.text
    rows = [
        r for r in await s.db.fetch("SELECT * FROM thread_summaries") if _norm(r["chat_id"]) == _norm(chat)
    ]
    assert rows == []
    assert not any(bool(m["is_compressed"]) for m in await _messages(s, chat))
