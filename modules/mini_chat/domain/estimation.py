"""Preflight token estimate (CI-8.1) and the ``input_too_long`` check (CI-8.2)."""

from __future__ import annotations

from typing import Protocol

import msgspec

from ..sdk import EstimationBudgets
from .credits import ceil_div
from .errors import InputTooLong


class BudgetsLike(Protocol):
    """``EstimationBudgets`` (sdk) and ``EstimationBudgetsConfig`` (module config) share these fields."""

    @property
    def bytes_per_token_conservative(self) -> int: ...
    @property
    def fixed_overhead_tokens(self) -> int: ...
    @property
    def safety_margin_pct(self) -> int: ...
    @property
    def image_token_budget(self) -> int: ...
    @property
    def tool_surcharge_tokens(self) -> int: ...
    @property
    def web_search_surcharge_tokens(self) -> int: ...
    @property
    def code_interpreter_surcharge_tokens(self) -> int: ...
    @property
    def minimal_generation_floor(self) -> int: ...


def as_budgets(value: BudgetsLike) -> EstimationBudgets:
    """The module config's budgets as the sdk struct (both carry the same fields)."""
    if isinstance(value, EstimationBudgets):
        return value
    return EstimationBudgets(**{name: getattr(value, name) for name in EstimationBudgets.__struct_fields__})


def text_tokens(byte_length: int, budgets: BudgetsLike) -> int:
    """``ceil(base·(100 + margin) / 100)`` with ``base = ceil(bytes / bpt) + fixed_overhead`` (multiply first)."""
    base = ceil_div(byte_length, budgets.bytes_per_token_conservative) + budgets.fixed_overhead_tokens
    return ceil_div(base * (100 + budgets.safety_margin_pct), 100)


class InputEstimate(msgspec.Struct, frozen=True, kw_only=True):
    text_tokens: int
    estimated_input_tokens: int


def estimate_input(
    content: str,
    budgets: BudgetsLike,
    *,
    images: int = 0,
    file_search: bool = False,
    web_search: bool = False,
    code_interpreter: bool = False,
    prior_context_tokens: int = 0,
) -> InputEstimate:
    """CI-8.1: text + images + surcharges of offered tools + the last assistant turn's reported usage."""
    text = text_tokens(len(content.encode("utf-8")), budgets)
    est_in = (
        text
        + images * budgets.image_token_budget
        + (budgets.tool_surcharge_tokens if file_search else 0)
        + (budgets.web_search_surcharge_tokens if web_search else 0)
        + (budgets.code_interpreter_surcharge_tokens if code_interpreter else 0)
        + prior_context_tokens
    )
    return InputEstimate(text_tokens=text, estimated_input_tokens=est_in)


def check_input_length(text_token_estimate: int, max_input_tokens: int) -> None:
    """CI-8.2: the text estimate alone above the effective model's ``max_input_tokens`` → 422."""
    if text_token_estimate > max_input_tokens:
        raise InputTooLong(
            f"The message needs about {text_token_estimate} tokens; the model accepts {max_input_tokens}."
        )
