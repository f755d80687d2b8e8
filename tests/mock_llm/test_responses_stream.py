"""Responses API streams (M-5) and the directives that shape them (M-4.2, M-4.3)."""

from __future__ import annotations

import math

import httpx
import pytest
from httpx_sse import aconnect_sse

from fabrikit.modules.mock_llm import MockLlmServer
from fabrikit.modules.mock_llm.plan import LOREM_WORDS

from .sse import Event, check_responses_stream, read_events, read_into, responses_body, text_of

NORMAL_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]

WELL_FORMED = [
    "",
    "echo",
    "lorem=7",
    "latency=1,lorem=3",
    "slow,lorem=2",
    "ttft=5",
    "think=3",
    "incomplete",
    "incomplete=content_filter",
    "usage=10:20:3:4",
    "no_usage",
    "citations=none",
    "tools=none",
    "tools=web_search:2+file_search+code_interpreter",
    "fail_after=1",
    "fail_after=1,fail_event=error",
    "fail_after=0,fail_event=error_nested",
    "no_done",
    "vs_file_status=failed",
]


@pytest.mark.parametrize("directives", WELL_FORMED)
async def test_every_directive_gives_a_well_formed_stream(client: httpx.AsyncClient, directives: str) -> None:
    tools = [
        {"type": "web_search"},
        {"type": "file_search", "vector_store_ids": []},
        {"type": "code_interpreter"},
    ]
    events = await read_events(
        client, "/v1/responses", responses_body(f"hi there [[mock:{directives}]]", tools=tools)
    )
    check_responses_stream(events)


async def test_normal_reply_order_and_shapes(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("hello [[mock:echo]] world"))
    check_responses_stream(events)
    assert [e.name for e in events] == NORMAL_ORDER
    added = events[2].data
    assert added["item"]["id"].startswith("msg_")
    assert added["item"]["role"] == "assistant"
    item_id = added["item"]["id"]
    deltas = [e.data for e in events if e.name == "response.output_text.delta"]
    assert [d["delta"] for d in deltas] == ["hello", " world"]
    assert all(d["item_id"] == item_id and d["output_index"] == 0 and d["content_index"] == 0 for d in deltas)
    assert events[6].data["text"] == "hello world"
    final = events[-1].data["response"]
    assert final["status"] == "completed"
    assert final["id"] == events[0].data["response"]["id"]
    assert final["output"] == [
        {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hello world", "annotations": []}],
        }
    ]
    assert final["usage"] == {
        "input_tokens": math.ceil(len(b"hello [[mock:echo]] world") / 4),
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 2 + math.ceil(len(b"hello [[mock:echo]] world") / 4),
    }


async def test_empty_echo_answers_ok(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("[[mock:echo]]"))
    assert text_of(events) == "OK"


async def test_echo_uses_last_user_message_parts(client: httpx.AsyncClient) -> None:
    body = responses_body(
        "",
        instructions="be brief",
        input=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "an answer"}]},
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "second [[mock:latency=0]] question"}],
            },
        ],
    )
    events = await read_events(client, "/v1/responses", body)
    assert text_of(events) == "second question"
    usage = events[-1].data["response"]["usage"]
    all_text = "be brief" + "first question" + "an answer" + "second [[mock:latency=0]] question"
    assert usage["input_tokens"] == math.ceil(len(all_text.encode()) / 4)


async def test_input_tokens_count_utf8_bytes(client: httpx.AsyncClient) -> None:
    text = "héllo wörld ✓"
    events = await read_events(client, "/v1/responses", responses_body(text))
    assert events[-1].data["response"]["usage"]["input_tokens"] == math.ceil(len(text.encode()) / 4)


async def test_lorem_words_are_output_tokens(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("[[mock:lorem=150]]"))
    words = text_of(events).split(" ")
    assert len(words) == 150
    assert words[: len(LOREM_WORDS)] == list(LOREM_WORDS)
    assert events[-1].data["response"]["usage"]["output_tokens"] == 150


async def test_words_per_delta(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with make_mock(words_per_delta=3) as mock, httpx.AsyncClient(base_url=mock.base_url) as http:
        events = await read_events(http, "/v1/responses", responses_body("[[mock:lorem=7]]"))
    deltas = [e.data["delta"] for e in events if e.name == "response.output_text.delta"]
    assert [len(d.split()) for d in deltas] == [3, 3, 1]
    assert events[-1].data["response"]["usage"]["output_tokens"] == 7


async def test_max_output_tokens_truncates_to_incomplete(client: httpx.AsyncClient) -> None:
    events = await read_events(
        client, "/v1/responses", responses_body("[[mock:lorem=20]]", max_output_tokens=5)
    )
    check_responses_stream(events)
    assert len(text_of(events).split()) == 5
    final = events[-1]
    assert final.name == "response.incomplete"
    assert final.data["response"]["status"] == "incomplete"
    assert final.data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final.data["response"]["usage"]["output_tokens"] == 5
    assert final.data["response"]["output"][0]["status"] == "incomplete"


async def test_cap_above_length_completes(client: httpx.AsyncClient) -> None:
    events = await read_events(
        client, "/v1/responses", responses_body("[[mock:lorem=5]]", max_output_tokens=5)
    )
    assert events[-1].name == "response.completed"


async def test_incomplete_directive_reason(client: httpx.AsyncClient) -> None:
    events = await read_events(
        client, "/v1/responses", responses_body("a b [[mock:incomplete=content_filter]]")
    )
    assert events[-1].name == "response.incomplete"
    assert events[-1].data["response"]["incomplete_details"]["reason"] == "content_filter"
    assert text_of(events) == "a b"


async def test_think_counts_reasoning_tokens(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("answer here [[mock:think=4]]"))
    text = text_of(events)
    assert text.startswith("<think>")
    assert text.endswith("</think>\nanswer here")
    usage = events[-1].data["response"]["usage"]
    assert usage["output_tokens"] == 6
    assert usage["output_tokens_details"]["reasoning_tokens"] == 4


async def test_usage_override_and_no_usage(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("x [[mock:usage=10:20:3:4]]"))
    assert events[-1].data["response"]["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 3},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 4},
        "total_tokens": 30,
    }
    events = await read_events(client, "/v1/responses", responses_body("x [[mock:no_usage]]"))
    assert events[-1].data["response"]["usage"] is None


async def test_fail_after_sends_response_failed(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("[[mock:lorem=10,fail_after=3]]"))
    check_responses_stream(events)
    assert len([e for e in events if e.name == "response.output_text.delta"]) == 3
    failed = events[-1]
    assert failed.name == "response.failed"
    assert failed.data["response"]["status"] == "failed"
    assert failed.data["response"]["error"]["code"] == "server_error"


async def test_fail_event_flat_and_nested(client: httpx.AsyncClient) -> None:
    flat = await read_events(
        client, "/v1/responses", responses_body("[[mock:lorem=5,fail_after=2,fail_event=error]]")
    )
    assert flat[-1].name == "error"
    assert {k: flat[-1].data[k] for k in ("code", "param")} == {"code": "server_error", "param": None}
    assert isinstance(flat[-1].data["message"], str)
    nested = await read_events(
        client, "/v1/responses", responses_body("[[mock:lorem=5,fail_after=2,fail_event=error_nested]]")
    )
    assert nested[-1].name == "error"
    assert nested[-1].data["error"]["code"] == "server_error"


async def test_drop_after_closes_without_terminal(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    received: list[Event] = []
    with pytest.raises(httpx.RemoteProtocolError):
        await read_into(client, "/v1/responses", responses_body("[[mock:lorem=50,drop_after=4]]"), received)
    events = [e.name for e in received]
    assert events.count("response.output_text.delta") == 4
    assert not {"response.completed", "response.failed", "response.incomplete"} & set(events)
    outcome = mock_llm.requests()[-1]["outcome"]
    assert outcome["terminal"] is None
    assert outcome["events_sent"] == len(events)


async def test_malformed_sends_one_invalid_event(client: httpx.AsyncClient) -> None:
    datas = []
    async with aconnect_sse(
        client, "POST", "/v1/responses", json=responses_body("a b c [[mock:malformed]]")
    ) as es:
        async for sse in es.aiter_sse():
            datas.append(sse.data)
    bad = []
    for data in datas:
        try:
            httpx.Response(200, content=data).json()
        except ValueError:
            bad.append(data)
    assert len(bad) == 1
    assert datas[-1].startswith('{"type":"response.completed"')


async def test_non_sse_answers_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/responses", json=responses_body("hi [[mock:non_sse]]"))
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["output"][0]["content"][0]["text"] == "hi"


async def test_stream_false_returns_final_response(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/responses", json={"model": "m1", "input": "one two three"})
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["model"] == "m1"
    assert body["output"][0]["content"][0]["text"] == "one two three"
    assert body["usage"]["output_tokens"] == 3


async def test_latency_stream_arrives_in_order(client: httpx.AsyncClient) -> None:
    events = await read_events(client, "/v1/responses", responses_body("[[mock:lorem=5,latency=5,ttft=5]]"))
    check_responses_stream(events)
    assert len(text_of(events).split()) == 5
