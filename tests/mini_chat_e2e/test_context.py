"""T16 context, observed where it matters: the request mock-llm received for each turn (CI-8, CI-13.1)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .harness import AUTH, BASE, ChatServer

# The `server` fixture runs on the module's event loop; the tests must share it.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]


def _request_for(server: ChatServer, marker: str) -> dict[str, Any]:
    (call,) = [c for c in server.provider_calls() if marker in str(c.get("json"))]
    body = call["json"]
    assert isinstance(body, dict)
    return body


def _texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every input message, in order."""
    out = []
    for item in body["input"]:
        parts = item["content"]
        text = parts if isinstance(parts, str) else "".join(p.get("text", "") for p in parts)
        out.append((item["role"], text))
    return out


async def test_system_prompt_history_and_tools_reach_the_provider(server: ChatServer) -> None:
    chat = await server.create_chat(model="gpt-4.1")
    first, second, third = (uuid.uuid4().hex for _ in range(3))

    stream = await server.send(chat["id"], f"remember {first} [[mock:lorem=3]]")
    assert stream.names[-1] == "done"
    body = _request_for(server, first)
    assert body["instructions"] == "You are a helpful assistant."  # T16-01
    assert _texts(body) == [("user", f"remember {first} [[mock:lorem=3]]")]
    assert body["stream"] is True
    assert body["store"] is False
    assert not any(t.get("type") == "web_search" for t in body.get("tools", []))  # T16-08: not asked

    stream = await server.send(chat["id"], f"then {second} [[mock:lorem=2]]", web_search={"enabled": True})
    assert stream.names[-1] == "done"
    body = _request_for(server, second)
    roles = [role for role, _ in _texts(body)]
    assert roles == ["user", "assistant", "user"]  # T16-03: earlier turn first, in order
    assert first in _texts(body)[0][1]
    web = [t for t in body["tools"] if t.get("type") == "web_search"]
    assert web  # T16-07/08: asked, so offered, with the model's context size
    assert web[0]["search_context_size"] == "low"
    assert body["max_tool_calls"] == 10
    assert "search" in body["instructions"]  # T16-10: the web-search guard follows the system prompt

    second_request = stream.one("stream_started")["request_id"]
    deleted = await server.http.delete(f"{BASE}/chats/{chat['id']}/turns/{second_request}", headers=AUTH)
    assert deleted.status_code == 204
    stream = await server.send(chat["id"], f"and {third} [[mock:lorem=2]]")
    assert stream.names[-1] == "done"
    texts = _texts(_request_for(server, third))
    assert not any(second in text for _, text in texts)  # T16-04: the deleted turn is gone from context
    assert [role for role, _ in texts] == ["user", "assistant", "user"]
    assert first in texts[0][1]
