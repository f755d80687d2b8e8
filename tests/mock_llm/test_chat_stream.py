"""Chat Completions (M-6) and its directives."""

from __future__ import annotations

import math

import httpx
import pytest
from httpx_sse import aconnect_sse

from fabrikit.modules.mock_llm import MockLlmServer

from .sse import Event, chat_body, chat_text, check_chat_stream, read_events, read_into

WELL_FORMED = [
    "",
    "echo",
    "lorem=7",
    "latency=1,lorem=3",
    "ttft=5",
    "think=2",
    "incomplete",
    "usage=1:2",
    "no_usage",
    "tools=none",
    "citations=none",
    "vs_file_status=failed",
]


@pytest.mark.parametrize("directives", WELL_FORMED)
async def test_every_directive_gives_a_well_formed_stream(client: httpx.AsyncClient, directives: str) -> None:
    body = chat_body(f"hi there [[mock:{directives}]]", stream_options={"include_usage": True})
    events = await read_events(client, "/v1/chat/completions", body)
    check_chat_stream(events)
    finish = [e.data["choices"][0]["finish_reason"] for e in events[:-1] if e.data["choices"]]
    assert finish[:-1] == [None] * (len(finish) - 1)
    assert finish[-1] in ("stop", "length")


async def test_chunks_and_usage(client: httpx.AsyncClient) -> None:
    text = "hello [[mock:echo]] big world"
    events = await read_events(
        client, "/v1/chat/completions", chat_body(text, stream_options={"include_usage": True})
    )
    check_chat_stream(events)
    assert chat_text(events) == "hello big world"
    assert events[-3].data["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    usage_chunk = events[-2].data
    assert usage_chunk["choices"] == []
    prompt = math.ceil(len(text.encode()) / 4)
    assert usage_chunk["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": 3,
        "total_tokens": prompt + 3,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


async def test_no_usage_chunk_without_include_usage(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/chat/completions", chat_body("a b"))
    assert not any(e.data and "usage" in e.data for e in events)


@pytest.mark.parametrize("cap_key", ["max_completion_tokens", "max_tokens"])
async def test_cap_truncates_with_length(client: httpx.AsyncClient, cap_key: str) -> None:
    body = chat_body("[[mock:lorem=30]]", stream_options={"include_usage": True}, **{cap_key: 4})
    events = await read_events(client, "/v1/chat/completions", body)
    assert len(chat_text(events).split()) == 4
    assert events[-3].data["choices"][0]["finish_reason"] == "length"
    assert events[-2].data["usage"]["completion_tokens"] == 4


async def test_fail_after_sends_error_chunk(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/chat/completions", chat_body("[[mock:lorem=9,fail_after=2]]"))
    check_chat_stream(events, done=False)
    assert events[-1].data["error"]["type"] == "server_error"
    assert len(chat_text(events).split()) == 2


async def test_no_done(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/chat/completions", chat_body("a [[mock:no_done]]"))
    check_chat_stream(events, done=False)
    assert events[-1].data["choices"][0]["finish_reason"] == "stop"


async def test_drop_after(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    datas: list[Event] = []
    with pytest.raises(httpx.RemoteProtocolError):
        await read_into(client, "/v1/chat/completions", chat_body("[[mock:lorem=50,drop_after=3]]"), datas)
    assert len(datas) == 4  # role chunk + 3 deltas
    assert mock_llm.requests()[-1]["outcome"]["events_sent"] == 4


async def test_function_tool_call(client: httpx.AsyncClient) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    body = chat_body("Paris [[mock:tools=function]]", tools=tools)
    events = await read_events(client, "/v1/chat/completions", body)
    check_chat_stream(events)
    deltas = [e.data["choices"][0]["delta"] for e in events[:-1]]
    calls = [delta["tool_calls"][0] for delta in deltas if "tool_calls" in delta]
    assert calls[0]["id"].startswith("call_")
    assert calls[0]["type"] == "function"
    assert calls[0]["function"] == {"name": "get_weather", "arguments": ""}
    assert len(calls) > 2
    assert all(c["index"] == 0 for c in calls)
    assert "".join(c["function"]["arguments"] for c in calls) == '{"input":"Paris"}'
    assert events[-2].data["choices"][0]["finish_reason"] == "tool_calls"


async def test_stream_false_chat_completion(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x y"}]}
    )
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "x y"}, "finish_reason": "stop"}
    ]
    assert body["usage"]["completion_tokens"] == 2


async def test_malformed_chunk(client: httpx.AsyncClient) -> None:
    datas = []
    async with aconnect_sse(
        client, "POST", "/v1/chat/completions", json=chat_body("a b [[mock:malformed]]")
    ) as es:
        async for sse in es.aiter_sse():
            datas.append(sse.data)
    assert datas.count("{not json") == 1
    assert datas[-1] == "[DONE]"


async def test_chat_directives_from_last_user_message_only(client: httpx.AsyncClient) -> None:
    body = chat_body("")
    body["messages"] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "old [[mock:lorem=50]]"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": [{"type": "text", "text": "new one"}]},
    ]
    events = await read_events(client, "/v1/chat/completions", body)
    assert chat_text(events) == "new one"
