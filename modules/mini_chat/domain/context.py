"""Tool choice (CI-8.4) and context assembly (CI-8.3, CI-8.5) as pure functions returning a plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from ..sdk import EstimationBudgets, KillSwitches, ModelCatalogEntry
from .credits import ceil_div
from .errors import ContextBudgetExceeded
from .estimation import BudgetsLike
from .models import hosted_tools_supported, supports_code_interpreter, supports_file_search

WEB_SEARCH_GUARD = (
    "You can search the web. Search only for current events or facts that are external to this conversation, "
    "and run at most one search per request."
)
FILE_SEARCH_GUARD = (
    "The user has uploaded files to this chat. When they are relevant to the request, search them and prefer "
    "what they say over general knowledge."
)
SUMMARY_PREAMBLE = "The older part of this conversation is condensed in the summary below; the most recent messages follow it."

Role = Literal["user", "assistant"]


class FileSearchTool(msgspec.Struct, frozen=True, kw_only=True):
    vector_store_ids: tuple[str, ...]
    max_num_results: int


class WebSearchTool(msgspec.Struct, frozen=True, kw_only=True):
    search_context_size: str


class CodeInterpreterTool(msgspec.Struct, frozen=True, kw_only=True):
    file_ids: tuple[str, ...]


class ToolPlan(msgspec.Struct, frozen=True, kw_only=True):
    file_search: FileSearchTool | None = None
    web_search: WebSearchTool | None = None
    code_interpreter: CodeInterpreterTool | None = None

    @property
    def features(self) -> tuple[str, ...]:
        names = ("file_search", "web_search", "code_interpreter")
        return tuple(name for name in names if getattr(self, name) is not None)


def decide_tools(
    model: ModelCatalogEntry,
    provider_kind: str,
    kill_switches: KillSwitches,
    *,
    vector_store_id: str | None,
    has_file_search_documents: bool,
    web_search_requested: bool,
    code_interpreter_file_ids: Sequence[str],
) -> ToolPlan:
    """CI-8.4; unavailable tools are dropped silently (the web kill switch was rejected earlier, C-8 #10)."""
    file_search = None
    if (
        has_file_search_documents
        and vector_store_id
        and not kill_switches.disable_file_search
        and supports_file_search(model, provider_kind)
    ):
        file_search = FileSearchTool(
            vector_store_ids=(vector_store_id,), max_num_results=model.max_num_results
        )
    web_search = None
    if (
        web_search_requested
        and not kill_switches.disable_web_search
        and hosted_tools_supported(provider_kind)
    ):
        web_search = WebSearchTool(search_context_size=model.web_search_context_size)
    code_interpreter = None
    if (
        code_interpreter_file_ids
        and not kill_switches.disable_code_interpreter
        and supports_code_interpreter(model, provider_kind)
    ):
        code_interpreter = CodeInterpreterTool(file_ids=tuple(code_interpreter_file_ids))
    return ToolPlan(file_search=file_search, web_search=web_search, code_interpreter=code_interpreter)


class HistoryMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    content: str


class ContextInputs(msgspec.Struct, frozen=True, kw_only=True):
    """Everything assembly depends on. ``recent`` is chronological: the last ``recent_messages_limit + 1`` live
    messages after the summary frontier (the extra one reveals older unsummarized history)."""

    model: ModelCatalogEntry
    budgets: EstimationBudgets  # the model's, else the module's (``estimation.as_budgets``)
    max_output_tokens: int
    tools: ToolPlan
    user_text: str
    image_file_ids: tuple[str, ...] = ()
    summary_text: str | None = None
    recent: tuple[HistoryMessage, ...] = ()
    recent_messages_limit: int = 10


class ContextPlan(msgspec.Struct, frozen=True, kw_only=True):
    instructions: str | None
    history: tuple[HistoryMessage, ...]  # chronological; the summary message first when used
    user_text: str
    image_file_ids: tuple[str, ...]
    tools: ToolPlan
    max_output_tokens: int
    estimated_context_tokens: int
    available_tokens: int
    messages_truncated: bool
    summary_used: bool


def cost(text: str, budgets: BudgetsLike) -> int:
    """``floor((ceil(bytes/bpt) + fixed_overhead)·(100 + margin)/100)`` (CI-8.3)."""
    base = (
        ceil_div(len(text.encode("utf-8")), budgets.bytes_per_token_conservative)
        + budgets.fixed_overhead_tokens
    )
    return base * (100 + budgets.safety_margin_pct) // 100


def tool_surcharges(tools: ToolPlan, budgets: BudgetsLike) -> int:
    return (
        (budgets.tool_surcharge_tokens if tools.file_search else 0)
        + (budgets.web_search_surcharge_tokens if tools.web_search else 0)
        + (budgets.code_interpreter_surcharge_tokens if tools.code_interpreter else 0)
    )


def build_instructions(system_prompt: str, tools: ToolPlan) -> str | None:
    parts = [
        system_prompt,
        WEB_SEARCH_GUARD if tools.web_search else "",
        FILE_SEARCH_GUARD if tools.file_search else "",
    ]
    joined = "\n\n".join(part for part in parts if part.strip())
    return joined or None


def summary_message(summary_text: str) -> HistoryMessage:
    return HistoryMessage(role="user", content=f"{SUMMARY_PREAMBLE}\n\n{summary_text}")


def assemble_context(inputs: ContextInputs) -> ContextPlan:
    """Fit instructions, the user message and images first (else 422), then the summary, then recent history."""
    model, budgets = inputs.model, inputs.budgets
    available = (
        min(model.effective_max_input_tokens, model.context_window - inputs.max_output_tokens)
        - budgets.fixed_overhead_tokens
        - tool_surcharges(inputs.tools, budgets)
    )
    instructions = build_instructions(model.system_prompt, inputs.tools)
    mandatory = (
        (cost(instructions, budgets) if instructions else 0)
        + cost(inputs.user_text, budgets)
        + len(inputs.image_file_ids) * budgets.image_token_budget
    )
    if available <= 0 or mandatory > available:
        raise ContextBudgetExceeded("The message and its attachments do not fit the model's context window.")
    remaining = available - mandatory

    summary: HistoryMessage | None = None
    if inputs.summary_text:
        candidate = summary_message(inputs.summary_text)
        if cost(candidate.content, budgets) <= remaining:
            summary = candidate
            remaining -= cost(candidate.content, budgets)

    eligible = [m for m in inputs.recent if m.role in ("user", "assistant")]
    limit = inputs.recent_messages_limit
    truncated = len(eligible) > limit
    window = eligible[-limit:] if limit else []
    kept: list[HistoryMessage] = []
    for message in reversed(window):
        needed = cost(message.content, budgets)
        if needed > remaining:
            truncated = True
            break
        kept.append(message)
        remaining -= needed
    kept.reverse()

    history = ((summary,) if summary else ()) + tuple(kept)
    return ContextPlan(
        instructions=instructions,
        history=history,
        user_text=inputs.user_text,
        image_file_ids=inputs.image_file_ids,
        tools=inputs.tools,
        max_output_tokens=inputs.max_output_tokens,
        estimated_context_tokens=available - remaining,
        available_tokens=available,
        messages_truncated=truncated,
        summary_used=summary is not None,
    )
