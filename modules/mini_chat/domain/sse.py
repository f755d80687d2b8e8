"""SSE payloads of C-9, their wire framing (C-9.2) and the grammar check the relay applies (C-9.3, CI-4.3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from uuid import UUID

import msgspec

from .quota_status import QuotaWarning

EventName = Literal["stream_started", "ping", "delta", "tool", "citations", "done", "error"]
ToolName = Literal["file_search", "web_search", "code_interpreter"]

SSE_ERROR_CODES = frozenset(
    {
        "provider_error",
        "provider_timeout",
        "rate_limited",
        "context_length_exceeded",
        "web_search_calls_exceeded",
        "code_interpreter_calls_exceeded",
        "message_persistence_failed",
        "internal_error",
        "stream_interrupted",
        "quota_exceeded",
    }
)
KEEPALIVE_COMMENT = b": keep-alive\n\n"
CODE_INTERPRETER_OUTPUT_MAX_CHARS = 8192


class ThreadSummaryApplied(msgspec.Struct, frozen=True):
    token_estimate: int


class StreamStarted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    request_id: UUID
    message_id: UUID
    is_new_turn: bool
    thread_summary_applied: ThreadSummaryApplied | None = None


class Ping(msgspec.Struct, frozen=True):
    pass


class Delta(msgspec.Struct, frozen=True):
    type: Literal["text", "reasoning"]
    content: str


class ToolEvent(msgspec.Struct, frozen=True):
    phase: Literal["start", "done"]
    name: ToolName
    details: dict[str, Any] = {}


class Span(msgspec.Struct, frozen=True):
    start: int
    end: int


class Citation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    source: Literal["file", "web"]
    title: str
    snippet: str
    url: str | None = None
    attachment_id: UUID | None = None
    score: float | None = None
    span: Span | None = None


class Citations(msgspec.Struct, frozen=True):
    items: tuple[Citation, ...]


class DoneUsage(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_write_input_tokens: int
    reasoning_tokens: int
    model: str


class CompletionSignal(msgspec.Struct, frozen=True):
    kind: Literal["incomplete"]
    reason: Literal["max_tokens", "content_filter", "other"]


class Done(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``usage`` is always written (null when the provider reported none); never a message id."""

    usage: DoneUsage | None
    effective_model: str
    selected_model: str
    quota_decision: Literal["allow", "downgrade"]
    downgrade_from: str | None = None
    downgrade_reason: str | None = None
    quota_warnings: tuple[QuotaWarning, ...] | None = None
    completion_signal: CompletionSignal | None = None


class ErrorEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    code: str
    message: str
    quota_scope: str | None = None


Payload = StreamStarted | Ping | Delta | ToolEvent | Citations | Done | ErrorEvent
_NAMES: dict[type[Any], EventName] = {
    StreamStarted: "stream_started",
    Ping: "ping",
    Delta: "delta",
    ToolEvent: "tool",
    Citations: "citations",
    Done: "done",
    ErrorEvent: "error",
}
TERMINAL_EVENTS: frozenset[str] = frozenset({"done", "error"})
_encoder = msgspec.json.Encoder()


def event_name(payload: Payload) -> EventName:
    return _NAMES[type(payload)]


def encode_data(payload: Payload) -> bytes:
    """The compact JSON of the ``data:`` line."""
    return _encoder.encode(payload)


def encode_event(payload: Payload) -> bytes:
    """``event: <name>\\ndata: <json>\\n\\n`` (C-9.2); no ``id:`` field."""
    return b"event: " + event_name(payload).encode() + b"\ndata: " + encode_data(payload) + b"\n\n"


# Grammar `stream_started ping* (delta | tool)* citations? (done | error)` as a state machine.
_START, _OPEN, _CONTENT, _CITED, _ENDED = range(5)
_NEXT: dict[int, dict[str, int]] = {
    _START: {"stream_started": _OPEN},
    _OPEN: {
        "ping": _OPEN,
        "delta": _CONTENT,
        "tool": _CONTENT,
        "citations": _CITED,
        "done": _ENDED,
        "error": _ENDED,
    },
    _CONTENT: {"delta": _CONTENT, "tool": _CONTENT, "citations": _CITED, "done": _ENDED, "error": _ENDED},
    _CITED: {"done": _ENDED, "error": _ENDED},
    _ENDED: {},
}


class SseGrammar:
    """Accepts event names one by one; an out-of-order name is refused and leaves the state unchanged."""

    def __init__(self) -> None:
        self._state = _START

    def accept(self, name: str) -> bool:
        nxt = _NEXT[self._state].get(name)
        if nxt is None:
            return False
        self._state = nxt
        return True

    @property
    def started(self) -> bool:
        return self._state != _START

    @property
    def content_started(self) -> bool:
        """A ``delta``/``tool`` (or later) was written: pings stop (C-9.4)."""
        return self._state in (_CONTENT, _CITED, _ENDED)

    @property
    def finished(self) -> bool:
        return self._state == _ENDED

    def allows(self, name: str) -> bool:
        return name in _NEXT[self._state]


def is_valid_stream(names: Iterable[str]) -> bool:
    """Whether a whole event-name sequence matches the grammar and ends with a terminal."""
    grammar = SseGrammar()
    return all(grammar.accept(name) for name in names) and grammar.finished


def stream_interrupted() -> ErrorEvent:
    return ErrorEvent(code="stream_interrupted", message="The stream ended before the turn was finalized.")
