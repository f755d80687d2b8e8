"""Turn states (CI-5.5), the public status mapping (C-11.1) and the ending → state/error_code table."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from .provider_usage import ProviderUsage

TurnState = Literal["running", "completed", "failed", "cancelled"]
PublicTurnState = Literal["running", "done", "error", "cancelled"]
CancelTrigger = Literal["client_disconnect", "stall", "shutdown", "chat_deleted"]
IncompleteReason = Literal["max_tokens", "content_filter", "other"]
EndingKind = Literal[
    "completed",  # provider Completed
    "incomplete",  # provider Incomplete(reason)
    "provider_failed",  # provider Failed(code)
    "tool_limit",  # (limit + 1)-th web_search / code_interpreter start
    "persistence_failed",  # the answer could not be stored (CI-5.3)
    "internal_failure",  # producer crash or post-commit failure (CI-4.8, P9)
    "cancelled",  # disconnect, stall, shutdown, chat deleted
    "orphan",  # watchdog
]

TERMINAL_STATES: frozenset[TurnState] = frozenset({"completed", "failed", "cancelled"})
_LEGAL: frozenset[tuple[TurnState, TurnState]] = frozenset(
    {("running", "completed"), ("running", "failed"), ("running", "cancelled")}
)
_PUBLIC: dict[TurnState, PublicTurnState] = {
    "running": "running",
    "completed": "done",
    "failed": "error",
    "cancelled": "cancelled",
}

PROVIDER_ERROR_CODES = frozenset(
    {"provider_error", "provider_timeout", "rate_limited", "context_length_exceeded"}
)
TOOL_LIMIT_CODES = frozenset({"web_search_calls_exceeded", "code_interpreter_calls_exceeded"})
MESSAGE_PERSISTENCE_FAILED = "message_persistence_failed"
INTERNAL_ERROR = "internal_error"
ORPHAN_TIMEOUT = "orphan_timeout"
STREAM_INTERRUPTED = "stream_interrupted"


def can_transition(current: TurnState, target: TurnState) -> bool:
    """Only ``running → completed | failed | cancelled``; terminal states never change."""
    return (current, target) in _LEGAL


def is_terminal(state: TurnState) -> bool:
    return state in TERMINAL_STATES


def public_state(state: TurnState) -> PublicTurnState:
    return _PUBLIC[state]


class TurnStatusView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``TurnStatus`` (C-5, C-11.1); ``updated_at`` is RFC 3339 text."""

    request_id: UUID
    state: PublicTurnState
    updated_at: str
    error_code: str | None = None
    assistant_message_id: UUID | None = None


def turn_status_view(
    *,
    request_id: UUID,
    state: TurnState,
    updated_at: str,
    error_code: str | None,
    assistant_message_id: UUID | None,
) -> TurnStatusView:
    public = public_state(state)
    return TurnStatusView(
        request_id=request_id,
        state=public,
        updated_at=updated_at,
        error_code=error_code if public == "error" else None,
        assistant_message_id=assistant_message_id if public == "done" else None,
    )


class Ending(msgspec.Struct, frozen=True, kw_only=True):
    """How a turn ended, as the finalizer learns it (CI-5.1).

    ``dispatched``: the provider request was sent. ``nothing_generated``: the provider answered a non-SSE HTTP
    error or oagw raised before forwarding (CI-6). ``error_code`` is required for provider failures and tool-limit
    breaches; ``error_detail`` is internal and already sanitized.
    """

    kind: EndingKind
    dispatched: bool = False
    nothing_generated: bool = False
    error_code: str | None = None
    error_detail: str | None = None
    incomplete_reason: IncompleteReason | None = None
    trigger: CancelTrigger | None = None
    usage: ProviderUsage | None = None
    response_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "provider_failed" and self.error_code not in PROVIDER_ERROR_CODES:
            raise ValueError(f"provider failure needs one of {sorted(PROVIDER_ERROR_CODES)}")
        if self.kind == "tool_limit" and self.error_code not in TOOL_LIMIT_CODES:
            raise ValueError(f"tool-limit ending needs one of {sorted(TOOL_LIMIT_CODES)}")
        if self.kind == "incomplete" and self.incomplete_reason is None:
            raise ValueError("incomplete ending needs a reason")


class TerminalOutcome(msgspec.Struct, frozen=True, kw_only=True):
    state: TurnState
    error_code: str | None
    completion_reason: IncompleteReason | None


def terminal_outcome(ending: Ending) -> TerminalOutcome:
    """The CI-5.5 table: ending → terminal state, stored ``error_code`` and ``completion_reason``."""
    kind = ending.kind
    if kind == "completed":
        return TerminalOutcome(state="completed", error_code=None, completion_reason=None)
    if kind == "incomplete":
        return TerminalOutcome(state="completed", error_code=None, completion_reason=ending.incomplete_reason)
    if kind == "cancelled":
        return TerminalOutcome(state="cancelled", error_code=None, completion_reason=None)
    code = {
        "provider_failed": ending.error_code,
        "tool_limit": ending.error_code,
        "persistence_failed": MESSAGE_PERSISTENCE_FAILED,
        "internal_failure": INTERNAL_ERROR,
        "orphan": ORPHAN_TIMEOUT,
    }[kind]
    return TerminalOutcome(state="failed", error_code=code, completion_reason=None)


def completion_signal(completion_reason: str | None) -> dict[str, str] | None:
    """``done.completion_signal`` only when the provider stopped early (C-9)."""
    if completion_reason is None:
        return None
    return {"kind": "incomplete", "reason": completion_reason}


def keeps_assistant_message(state: TurnState, text: str) -> bool:
    """Completed turns always store the answer; cancelled ones only non-empty partial text (CI-5.2 step 4)."""
    return state == "completed" or (state == "cancelled" and text != "")
