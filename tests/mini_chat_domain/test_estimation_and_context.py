"""CI-8.1/8.2 estimation (T14-07) and CI-8.3–8.5 context assembly (T16)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.config import EstimationBudgetsConfig
from fabrikit.modules.mini_chat.domain.context import (
    FILE_SEARCH_GUARD,
    SUMMARY_PREAMBLE,
    WEB_SEARCH_GUARD,
    ContextInputs,
    FileSearchTool,
    HistoryMessage,
    ToolPlan,
    WebSearchTool,
    assemble_context,
    cost,
    decide_tools,
)
from fabrikit.modules.mini_chat.domain.errors import ContextBudgetExceeded, InputTooLong
from fabrikit.modules.mini_chat.domain.estimation import (
    as_budgets,
    check_input_length,
    estimate_input,
    text_tokens,
)
from fabrikit.modules.mini_chat.sdk import EstimationBudgets, GeneralConfig, KillSwitches, ToolSupport
from tests.strategies.mini_chat import catalog_entry

B = EstimationBudgets()


def test_4000_bytes_is_1210() -> None:
    assert estimate_input("x" * 4000, B).estimated_input_tokens == 1210
    assert estimate_input("é" * 2000, B).text_tokens == 1210  # bytes, not characters


def test_empty_content_is_overhead_with_margin() -> None:
    assert text_tokens(0, B) == 110


@given(st.integers(0, 10**6), st.integers(1, 16), st.integers(0, 1000), st.integers(0, 100))
def test_text_tokens_match_rational_ceiling(n: int, bpt: int, overhead: int, margin: int) -> None:
    budgets = EstimationBudgets(
        bytes_per_token_conservative=bpt, fixed_overhead_tokens=overhead, safety_margin_pct=margin
    )
    base = math.ceil(n / bpt) + overhead
    assert text_tokens(n, budgets) == -(-(base * (100 + margin)) // 100)


def test_surcharges_and_prior_context() -> None:
    est = estimate_input(
        "x" * 4000,
        B,
        images=2,
        file_search=True,
        web_search=True,
        code_interpreter=True,
        prior_context_tokens=77,
    )
    assert est.estimated_input_tokens == 1210 + 2000 + 500 + 500 + 1000 + 77
    assert est.text_tokens == 1210


def test_config_budgets_convert() -> None:
    assert as_budgets(EstimationBudgetsConfig()) == B
    assert as_budgets(B) is B


def test_input_too_long() -> None:
    check_input_length(100, 100)
    with pytest.raises(InputTooLong) as info:
        check_input_length(101, 100)
    assert (info.value.status, info.value.code) == (422, "input_too_long")


MODEL = catalog_entry(
    "m", system_prompt="You are a helpful assistant.", context_window=10_000, max_output_tokens=1000
)


def inputs(**over: object) -> ContextInputs:
    values: dict[str, object] = {
        "model": MODEL,
        "budgets": B,
        "max_output_tokens": 1000,
        "tools": ToolPlan(),
        "user_text": "hello",
    }
    values.update(over)
    return ContextInputs(**values)  # type: ignore[arg-type]


def msgs(n: int, size: int = 10) -> tuple[HistoryMessage, ...]:
    return tuple(
        HistoryMessage(role="user" if i % 2 == 0 else "assistant", content=f"{i:04d}" + "x" * size)
        for i in range(n)
    )


def test_system_prompt_becomes_instructions_and_empty_is_omitted() -> None:
    plan = assemble_context(inputs())
    assert plan.instructions == "You are a helpful assistant."
    empty = catalog_entry("e", system_prompt="  ", context_window=10_000, max_output_tokens=1000)
    assert assemble_context(inputs(model=empty)).instructions is None


def test_guards_appended_in_order() -> None:
    tools = ToolPlan(
        file_search=FileSearchTool(vector_store_ids=("vs_1",), max_num_results=5),
        web_search=WebSearchTool(search_context_size="low"),
    )
    plan = assemble_context(inputs(tools=tools))
    assert plan.instructions == "\n\n".join(
        ["You are a helpful assistant.", WEB_SEARCH_GUARD, FILE_SEARCH_GUARD]
    )
    empty = catalog_entry("e", context_window=10_000, max_output_tokens=1000)
    assert (
        assemble_context(inputs(model=empty, tools=tools)).instructions
        == f"{WEB_SEARCH_GUARD}\n\n{FILE_SEARCH_GUARD}"
    )


def test_budget_and_estimate() -> None:
    plan = assemble_context(inputs())
    available = min(10_000, 10_000 - 1000) - 100
    assert plan.available_tokens == available
    assert plan.estimated_context_tokens == cost("You are a helpful assistant.", B) + cost("hello", B)
    assert plan.history == ()
    assert not plan.messages_truncated
    assert not plan.summary_used


def test_at_most_k_recent_and_truncation_flag() -> None:
    plan = assemble_context(inputs(recent=msgs(11), recent_messages_limit=10))
    assert plan.history == msgs(11)[1:]
    assert plan.messages_truncated
    exact = assemble_context(inputs(recent=msgs(10), recent_messages_limit=10))
    assert exact.history == msgs(10)
    assert not exact.messages_truncated
    none = assemble_context(inputs(recent=msgs(3), recent_messages_limit=0))
    assert none.history == ()
    assert none.messages_truncated


def test_history_is_contiguous_suffix_when_budget_runs_out() -> None:
    small = catalog_entry("s", context_window=1000, max_output_tokens=100)
    history = msgs(10, size=400)
    plan = assemble_context(inputs(model=small, max_output_tokens=100, recent=history))
    kept = plan.history
    assert 0 < len(kept) < 10
    assert kept == history[len(history) - len(kept) :]
    assert plan.messages_truncated
    assert plan.estimated_context_tokens <= plan.available_tokens


def test_summary_kept_first_or_dropped() -> None:
    plan = assemble_context(inputs(summary_text="User likes cats.", recent=msgs(2)))
    assert plan.summary_used
    assert plan.history[0] == HistoryMessage(role="user", content=f"{SUMMARY_PREAMBLE}\n\nUser likes cats.")
    assert plan.history[1:] == msgs(2)
    tiny = catalog_entry("t", context_window=700, max_output_tokens=100)
    dropped = assemble_context(inputs(model=tiny, max_output_tokens=100, summary_text="y" * 10_000))
    assert not dropped.summary_used
    assert dropped.history == ()


def test_422_when_mandatory_does_not_fit() -> None:
    with pytest.raises(ContextBudgetExceeded) as info:
        assemble_context(inputs(user_text="x" * 40_000))
    assert (info.value.status, info.value.code) == (422, "context_budget_exceeded")
    with pytest.raises(ContextBudgetExceeded):
        assemble_context(inputs(image_file_ids=tuple(f"file-{i}" for i in range(9))))
    with pytest.raises(ContextBudgetExceeded):  # available <= 0
        assemble_context(inputs(model=catalog_entry("z", context_window=1000, max_output_tokens=1000)))


@given(st.integers(0, 30), st.integers(0, 800), st.integers(0, 12), st.booleans())
def test_assembly_properties(n: int, size: int, limit: int, with_summary: bool) -> None:
    history = msgs(n, size)
    args = inputs(
        recent=history, recent_messages_limit=limit, summary_text="s" * size if with_summary else None
    )
    plan = assemble_context(args)
    assert plan == assemble_context(args)  # equal inputs, equal plans
    kept = plan.history[1:] if plan.summary_used else plan.history
    assert len(kept) <= limit
    assert kept == history[len(history) - len(kept) :] if kept else True
    assert plan.messages_truncated == (len(kept) < n)
    assert 0 < plan.estimated_context_tokens <= plan.available_tokens


TOOLS_MODEL = catalog_entry(
    "t",
    general_config=GeneralConfig(tool_support=ToolSupport(file_search=True, code_interpreter=True)),
    max_num_results=7,
    web_search_context_size="high",
)


def test_decide_tools() -> None:
    plan = decide_tools(
        TOOLS_MODEL,
        "openai_responses",
        KillSwitches(),
        vector_store_id="vs_1",
        has_file_search_documents=True,
        web_search_requested=True,
        code_interpreter_file_ids=["file-1"],
    )
    assert plan.file_search == FileSearchTool(vector_store_ids=("vs_1",), max_num_results=7)
    assert plan.web_search == WebSearchTool(search_context_size="high")
    assert plan.code_interpreter is not None
    assert plan.code_interpreter.file_ids == ("file-1",)
    assert plan.features == ("file_search", "web_search", "code_interpreter")
    none = decide_tools(
        TOOLS_MODEL,
        "openai_responses",
        KillSwitches(),
        vector_store_id="vs_1",
        has_file_search_documents=False,
        web_search_requested=False,
        code_interpreter_file_ids=[],
    )
    assert none == ToolPlan()
    killed = decide_tools(
        TOOLS_MODEL,
        "openai_responses",
        KillSwitches(disable_file_search=True, disable_code_interpreter=True),
        vector_store_id="vs_1",
        has_file_search_documents=True,
        web_search_requested=False,
        code_interpreter_file_ids=["file-1"],
    )
    assert killed == ToolPlan()
    chat = decide_tools(
        TOOLS_MODEL,
        "openai_chat_completions",
        KillSwitches(),
        vector_store_id="vs_1",
        has_file_search_documents=True,
        web_search_requested=True,
        code_interpreter_file_ids=["f"],
    )
    assert chat == ToolPlan()
    unsupported = decide_tools(
        catalog_entry("plain"),
        "openai_responses",
        KillSwitches(),
        vector_store_id="vs_1",
        has_file_search_documents=True,
        web_search_requested=False,
        code_interpreter_file_ids=["f"],
    )
    assert unsupported == ToolPlan()
