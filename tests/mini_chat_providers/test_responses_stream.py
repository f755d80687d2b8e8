"""Responses API streams through the real oagw to mock-llm (CI-13.1 … CI-13.4, CI-6 dispatch facts)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import msgspec
import pytest
import structlog

from fabrikit.modules.mini_chat.domain.provider_events import (
    Completed,
    Failed,
    FileRef,
    Incomplete,
    TextDelta,
    ToolDone,
    ToolStart,
)
from fabrikit.modules.mini_chat.domain.sanitize import sanitize_provider_text
from fabrikit.modules.mock_llm import MockLlmServer
from fabrikit.modules.oagw.sdk import Multipart, ProxyRequest

from .support import MOCK_KEY, Env, collect, provider_env, request, responses_body

pytestmark = pytest.mark.timeout(60)


def text_of(events: list[Any]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextDelta))


async def test_normal_stream_is_text_deltas_then_completed_with_mock_usage(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("hello brave new world")))
    assert state.dispatched
    assert not state.nothing_generated
    *deltas, terminal = events
    assert deltas
    assert all(isinstance(e, TextDelta) for e in deltas)
    assert text_of(deltas) == "hello brave new world"
    assert isinstance(terminal, Completed)
    assert mock_llm.requests("/v1/responses")[-1]["outcome"]["terminal"] == "response.completed"
    # The mock's accounting (M-4.3): one word = one output token; input = ceil(bytes / 4).
    assert terminal.usage is not None
    assert terminal.usage.output_tokens == 4
    assert terminal.usage.input_tokens == -(-len("hello brave new world") // 4)
    assert terminal.response_id is not None
    assert terminal.response_id.startswith("resp_")


async def test_usage_override_is_reported_exactly(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, _ = await collect(env, request(responses_body("hi [[mock:usage=120:45:30:7]]")))
    terminal = events[-1]
    assert isinstance(terminal, Completed)
    assert terminal.usage is not None
    usage = terminal.usage
    assert (usage.input_tokens, usage.output_tokens) == (120, 45)
    assert (usage.cache_read_input_tokens, usage.reasoning_tokens, usage.cache_write_input_tokens) == (
        30,
        7,
        0,
    )


async def test_no_usage_means_usage_unknown(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, _ = await collect(env, request(responses_body("hi [[mock:no_usage]]")))
    assert isinstance(events[-1], Completed)
    assert events[-1].usage is None


async def _store_with_file(env: Env) -> tuple[str, str]:
    """A file and a vector store on the mock, created through oagw's RAG routes (so those routes exist)."""
    form = (
        Multipart()
        .text("purpose", "assistants")
        .bytes("file", b"fact: the sky is green", filename="notes.txt")
    )
    upload = ProxyRequest(
        method="POST",
        alias="mock-llm",
        path="/v1/files",
        headers=[("content-type", form.content_type)],
        body=form.to_bytes(),
    )
    async with await env.oagw.proxy_request(env.ctx, upload) as resp:
        assert resp.status == 200
        file_id = msgspec.json.decode(await resp.read())["id"]
    create = ProxyRequest(
        method="POST",
        alias="mock-llm",
        path="/v1/vector_stores",
        headers=[("content-type", "application/json")],
        body=msgspec.json.encode({"name": "chat", "file_ids": [file_id]}),
    )
    async with await env.oagw.proxy_request(env.ctx, create) as resp:
        assert resp.status == 200
        store_id = msgspec.json.decode(await resp.read())["id"]
    return file_id, store_id


async def test_tools_and_citations(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        file_id, store_id = await _store_with_file(env)
        attachment = uuid4()
        tools = [
            {"type": "file_search", "vector_store_ids": [store_id], "max_num_results": 5},
            {"type": "web_search", "search_context_size": "low"},
            {"type": "code_interpreter", "container": {"type": "auto", "file_ids": []}},
        ]
        req = request(
            responses_body("what is the sky", tools=tools),
            file_map={file_id: FileRef(attachment, "notes.txt")},
            files_searchable=1,
        )
        events, _ = await collect(env, req)
    starts = [e.name for e in events if isinstance(e, ToolStart)]
    dones = {e.name: e.details for e in events if isinstance(e, ToolDone)}
    assert sorted(starts) == ["code_interpreter", "file_search", "web_search"]
    assert dones["file_search"] == {"files_searched": 1}
    assert dones["web_search"] == {}
    assert dones["code_interpreter"] == {"output": "mock output"}
    # Tools run before the text (M-4.4), and every start precedes its done.
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert all(i < first_text for i, e in enumerate(events) if isinstance(e, ToolStart | ToolDone))
    terminal = events[-1]
    assert isinstance(terminal, Completed)
    by_source = {c.source: c for c in terminal.citations}
    assert by_source["file"].attachment_id == attachment
    assert by_source["file"].title == "notes.txt"
    assert by_source["web"].url == "https://example.com/mock/search/1"
    assert by_source["web"].title == "Mock result 1"
    assert text_of(events) == "what is the sky"


async def test_unknown_cited_file_is_dropped_and_counted(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        _, store_id = await _store_with_file(env)
        tools = [{"type": "file_search", "vector_store_ids": [store_id]}]
        events, _ = await collect(env, request(responses_body("q", tools=tools)))
    terminal = events[-1]
    assert isinstance(terminal, Completed)
    assert terminal.citations == ()
    assert terminal.citations_dropped == 1


@pytest.mark.parametrize(
    ("directive", "reason"), [("incomplete", "max_tokens"), ("incomplete=content_filter", "content_filter")]
)
async def test_incomplete(mock_llm: MockLlmServer, directive: str, reason: str) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body(f"a b c [[mock:{directive}]]")))
    terminal = events[-1]
    assert isinstance(terminal, Incomplete)
    assert terminal.reason == reason
    assert terminal.usage is not None
    assert terminal.usage.output_tokens == 3
    assert not state.nothing_generated


async def test_max_output_tokens_cap_ends_incomplete(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, _ = await collect(
            env, request(responses_body("one two three four five", max_output_tokens=2))
        )
    assert text_of(events).split() == ["one", "two"]
    assert isinstance(events[-1], Incomplete)
    assert events[-1].reason == "max_tokens"


async def test_http_500_is_provider_error_with_nothing_generated(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("x [[mock:error=500]]")))
    assert events == [
        Failed(
            code="provider_error", message=sanitize_provider_text("The server had an error (mock status 500)")
        )
    ]
    assert state.dispatched
    assert state.nothing_generated


async def test_http_429_is_rate_limited(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("x [[mock:error=429]]")))
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].code == "rate_limited"
    assert state.nothing_generated


async def test_http_504_is_provider_timeout(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, _ = await collect(env, request(responses_body("x [[mock:error=504]]")))
    assert isinstance(events[-1], Failed)
    assert events[-1].code == "provider_timeout"


@pytest.mark.parametrize("fail_event", ["", ",fail_event=error", ",fail_event=error_nested"])
async def test_fail_after_n_deltas(mock_llm: MockLlmServer, fail_event: str) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(
            env, request(responses_body(f"a b c d e f [[mock:fail_after=3{fail_event}]]"))
        )
    *deltas, terminal = events
    assert [type(e) for e in deltas] == [TextDelta] * 3
    assert isinstance(terminal, Failed)
    assert terminal.code == "provider_error"
    assert "mock failure" in terminal.message
    assert state.dispatched
    assert not state.nothing_generated


async def test_drop_without_terminal_is_provider_error(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("a b c d e [[mock:drop_after=2]]")))
    *deltas, terminal = events
    assert text_of(deltas) == "a b"
    assert isinstance(terminal, Failed)
    assert terminal.code == "provider_error"
    assert not state.nothing_generated


async def test_malformed_event_is_provider_error(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, _ = await collect(env, request(responses_body("a b [[mock:malformed]]")))
    terminal = events[-1]
    assert isinstance(terminal, Failed)
    assert terminal.code == "provider_error"
    assert sum(isinstance(e, Failed | Completed) for e in events) == 1


async def test_json_answer_to_a_stream_request_is_a_provider_error_with_its_usage(
    mock_llm: MockLlmServer,
) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("a b [[mock:non_sse]]")))
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].code == "provider_error"
    assert events[0].usage is not None
    assert events[0].usage.output_tokens == 2
    assert not state.nothing_generated  # the provider did generate: billing must not release


async def test_credential_reaches_the_provider_and_never_the_logs(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        with structlog.testing.capture_logs() as logs:
            await collect(env, request(responses_body("hi")))
            await collect(env, request(responses_body("hi [[mock:error=401]]")))
    records = mock_llm.requests("/v1/responses")
    assert records[-1]["headers"]["Authorization"] == f"Bearer {MOCK_KEY}"
    assert records[0]["json"]["stream"] is True
    assert records[0]["headers"]["Accept"] == "text/event-stream"
    assert logs, "the proxy logs each request"
    assert MOCK_KEY not in repr(logs)
