"""Thread-summary trigger (CI-9.1), frozen range (CI-9.2) and the pure steps of the handler (CI-9.3)."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid4

import msgspec

from .credits import ceil_div
from .ports import ThreadSummaryPayload

DEFAULT_SUMMARY_PROMPT = (
    "You maintain a running summary of a conversation between a user and an assistant. First think inside an "
    "<analysis> block. Then write the summary inside a <summary> block with these parts: the user's goal, key "
    "facts and decisions, the user's explicit requests, open items, and the current topic. Keep names, numbers "
    "and constraints exactly; drop small talk."
)
PREVIOUS_SUMMARY_INTRO = "Previous summary (extend it; stay concise):"


class Frontier(msgspec.Struct, frozen=True, order=True):
    """A ``(created_at, id)`` position in a chat's strictly increasing message order."""

    created_at: datetime
    message_id: UUID


def should_trigger(
    *,
    messages_truncated: bool,
    has_summary: bool,
    estimated_context_tokens: int,
    context_window: int,
    max_output_tokens: int,
    trigger_pct: int,
) -> bool:
    """``messages_truncated`` or (no summary and the context reached ``trigger_pct`` of its budget)."""
    if messages_truncated:
        return True
    threshold = (context_window - max_output_tokens) * trigger_pct
    return not has_summary and estimated_context_tokens * 100 >= threshold


class SummaryRange(msgspec.Struct, frozen=True, kw_only=True):
    base: Frontier | None
    target: Frontier


def frozen_range(base: Frontier | None, newest_before_turn: Frontier | None) -> SummaryRange | None:
    """``target`` = newest live message strictly older than this turn's user message; enqueue only if > base."""
    if newest_before_turn is None or (base is not None and not newest_before_turn > base):
        return None
    return SummaryRange(base=base, target=newest_before_turn)


def summary_task(
    tenant_id: UUID, chat_id: UUID, base: Frontier | None, target: Frontier
) -> ThreadSummaryPayload:
    """The ``mini-chat.thread_summary`` payload for ``(base, target]`` (CI-9.2), with a new system request id."""
    return ThreadSummaryPayload(
        tenant_id=tenant_id,
        chat_id=chat_id,
        system_request_id=uuid4(),
        system_task_type="thread_summary_update",
        target_created_at=target.created_at,
        target_message_id=target.message_id,
        base_created_at=base.created_at if base else None,
        base_message_id=base.message_id if base else None,
    )


def shrink_target(range_messages: list[Frontier]) -> Frontier | None:
    """After a context-length error keep the oldest half of ``(base, target]``; None when nothing is left."""
    if len(range_messages) < 2:
        return None
    return range_messages[len(range_messages) // 2 - 1]


_SUMMARY_RE = re.compile(r"<summary>(.*?)(?:</summary>|\Z)", re.DOTALL)
_ANALYSIS_RE = re.compile(r"<analysis>.*?(?:</analysis>|\Z)", re.DOTALL)
_NEWLINES_RE = re.compile(r"\n{3,}")


def extract_summary(output_text: str) -> str | None:
    """Keep only the ``<summary>`` content, drop ``<analysis>``, collapse 3+ newlines; None = empty or malformed."""
    match = _SUMMARY_RE.search(_ANALYSIS_RE.sub("", output_text))
    if match is None:
        return None
    text = _NEWLINES_RE.sub("\n\n", match.group(1).replace("\r\n", "\n")).strip()
    return text or None


def summary_input(previous: str | None, lines: list[tuple[str, str]], message_char_limit: int) -> str:
    """The previous summary (if any), then ``role: content`` lines cut at ``message_char_limit`` chars."""
    parts = [f"{PREVIOUS_SUMMARY_INTRO}\n{previous}"] if previous else []
    parts.extend(f"{role}: {content[:message_char_limit]}" for role, content in lines)
    return "\n\n".join(parts)


def summary_token_estimate(output_tokens: int | None, text: str) -> int:
    return output_tokens if output_tokens else ceil_div(len(text.encode("utf-8")), 4)
