"""Directive parsing (M-4.1, M-4.2) and reply planning (M-4.3): pure functions, property-based."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mock_llm.directives import (
    DIRECTIVE_NAMES,
    DirectiveError,
    Directives,
    ToolCall,
    extract_directives,
    parse_directive_list,
)
from fabrikit.modules.mock_llm.plan import input_tokens, plan_reply, tokenize

from ..strategies.mock_llm import directive_lists, texts, unknown_names


@given(directive_lists)
def test_later_directives_win(items: list[tuple[str, dict]]) -> None:  # type: ignore[type-arg]
    expected: dict = {}  # type: ignore[type-arg]
    for _, fields in items:
        expected.update(fields)
    assert parse_directive_list(",".join(text for text, _ in items)) == expected


@given(texts, directive_lists, texts)
def test_blocks_are_stripped_anywhere(before: str, items: list[tuple[str, dict]], after: str) -> None:  # type: ignore[type-arg]
    block = "[[mock:" + ",".join(text for text, _ in items) + "]]"
    cleaned, updates = extract_directives(before + block + after)
    assert "[[mock:" not in cleaned
    assert updates == parse_directive_list(",".join(text for text, _ in items))


@given(texts)
def test_tokenize_round_trips(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(tokens) == text.strip()
    assert len(tokens) == len(text.split())


@given(unknown_names.filter(lambda name: name not in DIRECTIVE_NAMES))
def test_unknown_directive_rejected(name: str) -> None:
    with pytest.raises(DirectiveError, match="unknown"):
        parse_directive_list(f"lorem=1,{name}")


@pytest.mark.parametrize(
    "text",
    [
        "lorem=-1",
        "lorem=1000001",
        "lorem",
        "error=200",
        "error=600",
        "hang=1",
        "latency=fast",
        "tools=bogus",
        "tools=web_search:0",
        "usage=1",
        "usage=a:b",
        "incomplete=nope",
        "fail_event=boom",
        "citations=some",
        "vs_file_status=weird",
    ],
)
def test_bad_values_rejected(text: str) -> None:
    with pytest.raises(DirectiveError):
        parse_directive_list(text)


def test_tool_lists_and_usage() -> None:
    updates = parse_directive_list("tools=web_search:3+file_search+web_search_preview,usage=5:6:1")
    assert updates == {
        "tools": (ToolCall("web_search", 3), ToolCall("file_search", 1), ToolCall("web_search", 1)),
        "usage": (5, 6, 1, 0),
    }
    assert parse_directive_list("incomplete") == {"incomplete": "max_output_tokens"}


@given(st.text(max_size=200), st.text(max_size=50))
def test_input_tokens_are_ceil_bytes_over_four(user: str, instructions: str) -> None:
    body = {"model": "m", "instructions": instructions, "input": [{"role": "user", "content": user}]}
    assert input_tokens("responses", body) == math.ceil(len((instructions + user).encode()) / 4)


@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 7))
def test_cap_truncation_arithmetic(words: int, cap: int, per_delta: int) -> None:
    body = {"model": "m", "input": "x", "max_output_tokens": cap}
    plan = plan_reply(
        "responses",
        body,
        Directives(lorem=words),
        reply_text="x",
        script_text=None,
        auto_tools=True,
        words_per_delta=per_delta,
        store_files=lambda ids: [],
    )
    assert plan.words == min(words, cap)
    assert plan.truncated == (cap < words)
    assert plan.deltas == math.ceil(plan.words / per_delta)
    assert "".join(plan.delta_text(k) for k in range(plan.deltas)) == plan.text()
    usage = plan.usage()
    assert usage is not None
    assert usage.output_tokens == plan.words
