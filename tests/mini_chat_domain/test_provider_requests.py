"""CI-13.1 / 13.6 / 13.7 request bodies built from a context plan."""

from __future__ import annotations

from uuid import UUID

import pytest

from fabrikit.modules.mini_chat.domain.context import (
    CodeInterpreterTool,
    ContextPlan,
    FileSearchTool,
    HistoryMessage,
    ToolPlan,
    WebSearchTool,
)
from fabrikit.modules.mini_chat.domain.provider_requests import build_request_body
from fabrikit.modules.mini_chat.sdk import ApiParams, GeneralConfig
from tests.strategies.mini_chat import catalog_entry

CHAT = UUID("018f0000-0000-7000-8000-000000000001")
TOOLS = ToolPlan(
    file_search=FileSearchTool(vector_store_ids=("vs_1",), max_num_results=5),
    web_search=WebSearchTool(search_context_size="medium"),
    code_interpreter=CodeInterpreterTool(file_ids=("file-x",)),
)
PLAN = ContextPlan(
    instructions="Be nice.",
    history=(HistoryMessage(role="user", content="q1"), HistoryMessage(role="assistant", content="a1")),
    user_text="q2",
    image_file_ids=("file-img",),
    tools=TOOLS,
    max_output_tokens=256,
    estimated_context_tokens=10,
    available_tokens=100,
    messages_truncated=False,
    summary_used=False,
)
PARAMS = ApiParams(
    temperature=0.2, stop=("END",), reasoning_effort="low", extra_body={"temperature": 0.9, "seed": 1}
)
MODEL = catalog_entry("gpt-4.1", "premium", max_tool_calls=3, general_config=GeneralConfig(api_params=PARAMS))


def test_responses_body() -> None:
    body = build_request_body("openai_responses", PLAN, MODEL, chat_id=CHAT, user="t:u")
    assert body["model"] == "upstream-gpt-4.1"
    assert body["instructions"] == "Be nice."
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q1"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a1"}]},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "q2"}, {"type": "input_image", "file_id": "file-img"}],
        },
    ]
    assert (body["stream"], body["store"], body["max_output_tokens"], body["max_tool_calls"]) == (
        True,
        False,
        256,
        3,
    )
    assert body["tools"] == [
        {"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 5},
        {"type": "web_search", "search_context_size": "medium"},
        {"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["file-x"]}},
    ]
    assert body["metadata"] == {
        "chat_id": str(CHAT),
        "request_type": "chat",
        "features": "file_search,web_search,code_interpreter",
    }
    assert body["user"] == "t:u"
    assert body["reasoning"] == {"effort": "low"}
    assert body["stop"] == ["END"]
    assert body["temperature"] == 0.9
    assert body["seed"] == 1


def test_responses_without_tools_or_instructions() -> None:
    plan = ContextPlan(
        instructions=None,
        history=(),
        user_text="hi",
        image_file_ids=(),
        tools=ToolPlan(),
        max_output_tokens=10,
        estimated_context_tokens=1,
        available_tokens=5,
        messages_truncated=False,
        summary_used=False,
    )
    body = build_request_body("azure_openai_responses", plan, catalog_entry("m"), chat_id=CHAT)
    assert "instructions" not in body
    assert "tools" not in body
    assert "user" not in body
    assert body["metadata"]["features"] == ""


def test_vllm_body() -> None:
    body = build_request_body("vllm_responses", PLAN, MODEL, chat_id=CHAT)
    assert body["input"][1] == {"type": "message", "role": "assistant", "content": "a1"}
    for key in ("tools", "metadata", "store", "max_tool_calls", "user"):
        assert key not in body
    assert body["stream"] is True
    assert body["max_output_tokens"] == 256


def test_chat_completions_body() -> None:
    body = build_request_body("openai_chat_completions", PLAN, MODEL, chat_id=CHAT)
    assert body["messages"] == [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 256
    assert "tools" not in body
    assert body["reasoning_effort"] == "low"


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown provider kind"):
        build_request_body("anthropic", PLAN, MODEL, chat_id=CHAT)
