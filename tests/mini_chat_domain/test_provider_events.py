"""CI-13 provider normalization on mock-llm-shaped event sequences (M-5, M-6)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.provider_events import (
    ChatCompletionsNormalizer,
    Completed,
    Failed,
    FileRef,
    Incomplete,
    ReasoningDelta,
    ResponsesNormalizer,
    TextDelta,
    ThinkSplitter,
    ToolDone,
    ToolStart,
    extract_citations,
    failed_from_gateway,
    failed_from_http,
    usage_from_chat,
    usage_from_responses,
)
from fabrikit.modules.mini_chat.domain.provider_usage import ProviderUsage
from fabrikit.modules.mini_chat.domain.sse import Span

ATT = UUID("018f0000-0000-7000-8000-0000000000aa")
FILE_MAP = {"file-abc123": FileRef(ATT, "report.pdf")}
USAGE_JSON = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 2},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 1},
    "total_tokens": 15,
}


def response(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "resp_123abc", "object": "response", "status": status, "usage": USAGE_JSON, **extra}


def ev(kind: str, **payload: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"type": kind, "sequence_number": 0, **payload}


def tool_events(
    kind: str, item_id: str, work: str, done_item: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    ref = {"output_index": 0, "item_id": item_id}
    return [
        ev(
            "response.output_item.added",
            output_index=0,
            item={"id": item_id, "type": f"{kind}_call", "status": "in_progress"},
        ),
        ev(f"response.{kind}_call.in_progress", **ref),
        ev(f"response.{kind}_call.{work}", **ref),
        ev(f"response.{kind}_call.completed", **ref),
        ev("response.output_item.done", output_index=0, item=done_item),
    ]


def text_events(words: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        ev("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=w)
        for w in words
    ]


def run(normalizer: ResponsesNormalizer, events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    out: list[Any] = []
    for kind, data in events:
        out.extend(normalizer.feed(kind, data))
    out.extend(normalizer.end())
    return out


def completed_event(text: str, annotations: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    output = [
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": annotations}],
        }
    ]
    return ev("response.completed", response=response("completed", output=output))


def test_plain_completion() -> None:
    events = [
        ev("response.created", response=response("in_progress")),
        *text_events(["Hello", " world"]),
        ev("response.output_text.done", text="Hello world"),
        completed_event("Hello world", []),
    ]
    out = run(ResponsesNormalizer(), events)
    assert out == [
        TextDelta("Hello"),
        TextDelta(" world"),
        Completed(
            usage=ProviderUsage(
                input_tokens=12, output_tokens=3, cache_read_input_tokens=2, reasoning_tokens=1
            ),
            response_id="resp_123abc",
        ),
    ]


def test_tools_and_citations() -> None:
    ci_item = {
        "id": "ci_1",
        "type": "code_interpreter_call",
        "status": "completed",
        "outputs": [{"type": "logs", "logs": "mock output from https://x.example/a"}],
    }
    events = [
        *tool_events("file_search", "fs_1", "searching", {"id": "fs_1", "type": "file_search_call"}),
        *tool_events("web_search", "ws_1", "searching", {"id": "ws_1", "type": "web_search_call"}),
        *tool_events("code_interpreter", "ci_1", "interpreting", ci_item),
        *text_events(["Answer"]),
        completed_event(
            "Answer",
            [
                {
                    "type": "file_citation",
                    "file_id": "file-abc123",
                    "filename": "x_provider_name.pdf",
                    "index": 6,
                },
                {"type": "file_citation", "file_id": "file-unknown1", "filename": "y.pdf", "index": 6},
                {
                    "type": "url_citation",
                    "url": "https://example.com/mock/search/1",
                    "title": "Mock result 1",
                    "start_index": 0,
                    "end_index": 6,
                },
            ],
        ),
    ]
    out = run(ResponsesNormalizer(FILE_MAP, files_searchable=2), events)
    assert out[:6] == [
        ToolStart("file_search"),
        ToolDone("file_search", {"files_searched": 2}),
        ToolStart("web_search"),
        ToolDone("web_search", {}),
        ToolStart("code_interpreter"),
        ToolDone("code_interpreter", {"output": "mock output from [url]"}),
    ]
    assert out[6] == TextDelta("Answer")
    done = out[7]
    assert isinstance(done, Completed)
    assert done.citations_dropped == 1
    file_cit, web_cit = done.citations
    assert (file_cit.source, file_cit.attachment_id, file_cit.title, file_cit.snippet) == (
        "file",
        ATT,
        "report.pdf",
        "",
    )
    assert (web_cit.source, web_cit.url, web_cit.title, web_cit.snippet, web_cit.span) == (
        "web",
        "https://example.com/mock/search/1",
        "Mock result 1",
        "Answer",
        Span(0, 6),
    )


def test_code_interpreter_logs_are_capped() -> None:
    ci_item = {
        "id": "ci_1",
        "type": "code_interpreter_call",
        "outputs": [{"type": "logs", "logs": "z" * 9000}],
    }
    out = run(
        ResponsesNormalizer(),
        [*tool_events("code_interpreter", "ci_1", "interpreting", ci_item), completed_event("", [])],
    )
    assert len(out[1].details["output"]) == 8192


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("max_output_tokens", "max_tokens"),
        ("content_filter", "content_filter"),
        ("weird", "other"),
        (None, "other"),
    ],
)
def test_incomplete(raw: str | None, reason: str) -> None:
    details = {"reason": raw} if raw else None
    out = run(
        ResponsesNormalizer(),
        [
            *text_events(["a"]),
            ev("response.incomplete", response=response("incomplete", incomplete_details=details)),
        ],
    )
    assert out[-1] == Incomplete(
        reason=reason, usage=usage_from_responses(USAGE_JSON), response_id="resp_123abc"
    )


def test_failed_event_and_flat_and_nested_error() -> None:
    failed = ev(
        "response.failed",
        response=response("failed", error={"code": "server_error", "message": "mock failure resp_abc123"}),
    )
    out = run(ResponsesNormalizer(), [*text_events(["a"]), failed])
    assert out[-1] == Failed(
        code="provider_error", message="mock failure [provider_id]", usage=usage_from_responses(USAGE_JSON)
    )
    flat = run(ResponsesNormalizer(), [ev("error", code="server_error", message="boom", param=None)])
    assert flat == [Failed(code="provider_error", message="boom")]
    nested = run(
        ResponsesNormalizer(),
        [
            ev(
                "error",
                error={"type": "server_error", "code": "context_length_exceeded", "message": "too long"},
            )
        ],
    )
    assert nested == [Failed(code="context_length_exceeded", message="too long")]


def test_truncated_or_malformed_stream_fails() -> None:
    out = run(ResponsesNormalizer(), text_events(["a", "b"]))
    assert isinstance(out[-1], Failed)
    assert out[-1].code == "provider_error"
    normalizer = ResponsesNormalizer()
    assert isinstance(normalizer.feed("response.output_text.delta", "not json")[-1], Failed)
    assert normalizer.feed("response.output_text.delta", {"delta": "late"}) == []  # nothing after a terminal
    assert normalizer.end() == []


def test_unknown_events_are_ignored() -> None:
    normalizer = ResponsesNormalizer()
    assert normalizer.feed("response.code_interpreter_call.interpreting", {"item_id": "ci"}) == []
    assert normalizer.feed("response.something.new", {}) == []


def test_vllm_think_split_across_chunks() -> None:
    chunks = ["<thi", "nk>why", " so</th", "ink>", "\nThe answer", " <", "b>"]
    out = run(ResponsesNormalizer(think_tags=True), [*text_events(chunks), completed_event("", [])])
    reasoning = "".join(e.delta for e in out if isinstance(e, ReasoningDelta))
    text = "".join(e.delta for e in out if isinstance(e, TextDelta))
    assert reasoning == "why so"
    assert text == "The answer <b>"


@given(
    st.text(alphabet="ab<>/thinke \n", max_size=30),
    st.text(alphabet="ab<>/ \n", min_size=1, max_size=30),
    st.text(alphabet="ab <>", max_size=30),
    st.lists(st.integers(1, 90), max_size=8),
)
def test_think_splitter_is_chunking_independent(pre: str, thought: str, answer: str, cuts: list[int]) -> None:
    thought = thought.replace("</think>", "")
    answer = answer.lstrip()
    stream = f"<think>{thought}</think>\n{answer}"
    bounds = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[i:j] for i, j in zip([0, *bounds], [*bounds, len(stream)], strict=True)]
    splitter = ThinkSplitter()
    out = [e for c in chunks for e in splitter.feed(c)] + splitter.flush()
    assert "".join(e.delta for e in out if isinstance(e, ReasoningDelta)) == thought
    assert "".join(e.delta for e in out if isinstance(e, TextDelta)) == answer


def chat_chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


CHAT_USAGE = {
    "prompt_tokens": 7,
    "completion_tokens": 2,
    "total_tokens": 9,
    "prompt_tokens_details": {"cached_tokens": 1},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def chat_run(items: list[Any], *, think: bool = False) -> list[Any]:
    normalizer = ChatCompletionsNormalizer(think_tags=think)
    out = [e for item in items for e in normalizer.feed(item)]
    return out + normalizer.end()


def test_chat_completion_with_usage() -> None:
    out = chat_run(
        [
            {
                "id": "chatcmpl-abc123",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
            },
            chat_chunk("Hi"),
            chat_chunk(" there"),
            chat_chunk(finish="stop"),
            {"id": "chatcmpl-abc123", "choices": [], "usage": CHAT_USAGE},
            "[DONE]",
        ]
    )
    assert out == [
        TextDelta("Hi"),
        TextDelta(" there"),
        Completed(
            usage=ProviderUsage(input_tokens=7, output_tokens=2, cache_read_input_tokens=1),
            response_id="chatcmpl-abc123",
        ),
    ]


def test_chat_length_and_content_filter_and_no_usage() -> None:
    assert chat_run([chat_chunk("a"), chat_chunk(finish="length"), "[DONE]"])[-1] == Incomplete(
        reason="max_tokens", usage=None, response_id="chatcmpl-abc123"
    )
    assert isinstance(chat_run([chat_chunk(finish="content_filter"), "[DONE]"])[-1], Incomplete)
    no_done = chat_run([chat_chunk("a"), chat_chunk(finish="stop")])
    assert no_done[-1] == Completed(usage=None, response_id="chatcmpl-abc123")


def test_chat_errors() -> None:
    err = {
        "error": {
            "message": "mock failure after 2 deltas",
            "type": "server_error",
            "param": None,
            "code": "server_error",
        }
    }
    assert chat_run([chat_chunk("a"), err]) == [
        TextDelta("a"),
        Failed(code="provider_error", message="mock failure after 2 deltas"),
    ]
    truncated = chat_run([chat_chunk("a")])
    assert isinstance(truncated[-1], Failed)
    assert isinstance(chat_run(["[DONE]"])[-1], Failed)


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (
            429,
            {"error": {"message": "Rate limit reached (mock)", "code": "rate_limit_exceeded"}},
            "rate_limited",
            "Rate limit reached (mock)",
        ),
        (504, b"gateway timeout", "provider_timeout", "gateway timeout"),
        (400, {"error": {"message": "x", "code": "context_length_exceeded"}}, "context_length_exceeded", "x"),
        (
            400,
            {"message": "This model's maximum context length is 4096 tokens", "code": None},
            "context_length_exceeded",
            "This model's maximum context length is 4096 tokens",
        ),
        (
            500,
            {"code": "server_error", "message": "flat resp_abc123"},
            "provider_error",
            "flat [provider_id]",
        ),
        (502, "x" * 300, "provider_error", "x" * 200),
        (
            400,
            {"error": {"message": "Mock error status 400", "code": "mock_error_400"}},
            "provider_error",
            "Mock error status 400",
        ),
    ],
)
def test_http_error_classification(status: int, body: Any, code: str, message: str) -> None:
    assert failed_from_http(status, body) == Failed(code=code, message=message)


def test_gateway_failures() -> None:
    assert failed_from_gateway("rate_limited").code == "rate_limited"
    for kind in ("connect_timeout", "request_timeout", "idle_timeout"):
        assert failed_from_gateway(kind).code == "provider_timeout"  # type: ignore[arg-type]
    for kind in ("stream_aborted", "link", "circuit", "other"):
        assert failed_from_gateway(kind, "sk-abcdefgh1234 leaked").message == "[credential] leaked"  # type: ignore[arg-type]


def test_usage_extraction() -> None:
    assert usage_from_responses(None) is None
    assert usage_from_responses({}) == ProviderUsage()
    assert usage_from_responses({"input_tokens": 5}) == ProviderUsage(input_tokens=5)
    assert usage_from_chat(CHAT_USAGE) == ProviderUsage(
        input_tokens=7, output_tokens=2, cache_read_input_tokens=1
    )
    assert usage_from_chat("nope") is None


def test_citation_snippet_from_annotation_text_and_score() -> None:
    output = [
        {
            "type": "message",
            "content": [
                {
                    "type": "output_text",
                    "text": "0123456789",
                    "annotations": [
                        {
                            "type": "file_citation",
                            "file_id": "file-abc123",
                            "text": "quoted",
                            "start_index": 2,
                            "end_index": 4,
                            "score": 0.5,
                        },
                        {
                            "type": "url_citation",
                            "url": "https://a",
                            "title": "A",
                            "start_index": 2,
                            "end_index": 5,
                            "score": 7,
                        },
                        {
                            "type": "url_citation",
                            "url": "https://a",
                            "title": "A",
                            "start_index": 2,
                            "end_index": 5,
                            "score": 7,
                        },
                    ],
                }
            ],
        }
    ]
    items, dropped = extract_citations(output, FILE_MAP)
    assert dropped == 0
    assert len(items) == 2
    assert (items[0].snippet, items[0].score, items[0].span) == ("quoted", 0.5, Span(2, 4))
    assert (items[1].snippet, items[1].score) == ("234", None)
