"""Test helpers: read SSE streams with a real parser (httpx-sse) and check they are well-formed."""

from __future__ import annotations

import json
from typing import Any

import httpx
from httpx_sse import aconnect_sse

RESPONSE_TERMINALS = {"response.completed", "response.incomplete", "response.failed", "error"}


class Event:
    def __init__(self, name: str, data: str) -> None:
        self.name = name
        self.raw = data
        self.data: Any = json.loads(data) if data != "[DONE]" else None

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {self.raw[:80]!r})"


async def read_events(client: httpx.AsyncClient, path: str, body: dict[str, Any], **kw: Any) -> list[Event]:
    events: list[Event] = []
    async with aconnect_sse(client, "POST", path, json=body, **kw) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["cache-control"] == "no-cache"
        async for sse in source.aiter_sse():
            events.append(Event(sse.event, sse.data))
    return events


def responses_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mock", "input": text, "stream": True, **extra}


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mock", "messages": [{"role": "user", "content": text}], "stream": True, **extra}


def check_responses_stream(events: list[Event], *, terminal: bool = True) -> None:
    """M-5.1: `type` equals the event name, sequence numbers count from 0; one terminal, last."""
    assert events, "empty stream"
    for index, event in enumerate(events):
        assert event.data["type"] == event.name
        assert event.data["sequence_number"] == index
    assert [e.name for e in events[:2]] == ["response.created", "response.in_progress"]
    for event in events[:2]:
        response = event.data["response"]
        assert response["object"] == "response"
        assert response["id"].startswith("resp_")
        assert response["status"] == "in_progress"
        assert response["output"] == []
        assert response["usage"] is None
    terminals = [e for e in events if e.name in RESPONSE_TERMINALS]
    if terminal:
        assert terminals == [events[-1]]
    else:
        assert terminals == []


def check_chat_stream(events: list[Event], *, done: bool = True) -> None:
    """M-6.1: data-only chunks, first delta has the role, [DONE] last."""
    assert all(e.name == "message" for e in events)
    chunks = [e.data for e in events if e.raw != "[DONE]"]
    if done:
        assert events[-1].raw == "[DONE]"
        assert [e.raw for e in events].count("[DONE]") == 1
    else:
        assert all(e.raw != "[DONE]" for e in events)
    first = chunks[0]
    assert first["object"] == "chat.completion.chunk"
    assert first["id"].startswith("chatcmpl-")
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for chunk in chunks:
        if "error" in chunk:
            assert chunk is chunks[-1]
            continue
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"] == first["id"]


def text_of(events: list[Event]) -> str:
    return "".join(e.data["delta"] for e in events if e.name == "response.output_text.delta")


def chat_text(events: list[Event]) -> str:
    return "".join(
        e.data["choices"][0]["delta"].get("content") or "" for e in events if e.data and e.data.get("choices")
    )


async def read_into(client: httpx.AsyncClient, path: str, body: dict[str, Any], into: list[Event]) -> None:
    """Like :func:`read_events` but keeps what arrived when the stream breaks (the error propagates)."""
    async with aconnect_sse(client, "POST", path, json=body) as source:
        async for sse in source.aiter_sse():
            into.append(Event(sse.event, sse.data) if sse.data != "{not json" else Event(sse.event, "null"))


async def read_lines_into(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], into: list[str]
) -> None:
    async with client.stream("POST", path, json=body) as response:
        async for line in response.aiter_lines():
            into.append(line)
