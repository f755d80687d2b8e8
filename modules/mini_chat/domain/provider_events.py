"""Provider stream normalization (CI-13.1, CI-13.6, CI-13.7): usage (CI-13.2), citations (CI-13.3), errors (CI-13.4).

Normalizers are pure state machines over already-parsed JSON events; the adapter feeds them and forwards the
normalized events. Provider ids stay inside (``Completed.response_id`` is stored, never shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

import msgspec

from .provider_usage import ProviderUsage
from .sanitize import sanitize_provider_text
from .sse import CODE_INTERPRETER_OUTPUT_MAX_CHARS, Citation, Span, ToolName
from .turns import IncompleteReason

ProviderErrorCode = Literal["provider_error", "provider_timeout", "rate_limited", "context_length_exceeded"]
_MESSAGE_MAX_CHARS = 200


class TextDelta(msgspec.Struct, frozen=True):
    delta: str


class ReasoningDelta(msgspec.Struct, frozen=True):
    delta: str


class ToolStart(msgspec.Struct, frozen=True):
    name: ToolName


class ToolDone(msgspec.Struct, frozen=True):
    name: ToolName
    details: dict[str, Any]


class Completed(msgspec.Struct, frozen=True, kw_only=True):
    usage: ProviderUsage | None
    response_id: str | None = None
    citations: tuple[Citation, ...] = ()
    citations_dropped: int = 0  # unmappable file citations (metric ``citations_dropped``)


class Incomplete(msgspec.Struct, frozen=True, kw_only=True):
    reason: IncompleteReason
    usage: ProviderUsage | None
    response_id: str | None = None


class Failed(msgspec.Struct, frozen=True, kw_only=True):
    code: ProviderErrorCode
    message: str  # sanitized
    usage: ProviderUsage | None = None


ProviderEvent = TextDelta | ReasoningDelta | ToolStart | ToolDone | Completed | Incomplete | Failed
TERMINAL_TYPES = (Completed, Incomplete, Failed)


class FileRef(msgspec.Struct, frozen=True):
    """Where a provider file id maps to (CI-12.6)."""

    attachment_id: UUID
    filename: str


# -- usage (CI-13.2) --


def _int(obj: Any, *path: str) -> int:
    for key in path:
        if not isinstance(obj, Mapping):
            return 0
        obj = obj.get(key)
    return obj if isinstance(obj, int) and not isinstance(obj, bool) and obj >= 0 else 0


def usage_from_responses(usage: Any) -> ProviderUsage | None:
    """``input_tokens``, ``output_tokens``, cached → cache read, reasoning; missing fields 0, missing object None."""
    if not isinstance(usage, Mapping):
        return None
    return ProviderUsage(
        input_tokens=_int(usage, "input_tokens"),
        output_tokens=_int(usage, "output_tokens"),
        cache_read_input_tokens=_int(usage, "input_tokens_details", "cached_tokens"),
        cache_write_input_tokens=0,
        reasoning_tokens=_int(usage, "output_tokens_details", "reasoning_tokens"),
    )


def usage_from_chat(usage: Any) -> ProviderUsage | None:
    if not isinstance(usage, Mapping):
        return None
    return ProviderUsage(
        input_tokens=_int(usage, "prompt_tokens"),
        output_tokens=_int(usage, "completion_tokens"),
        cache_read_input_tokens=_int(usage, "prompt_tokens_details", "cached_tokens"),
        cache_write_input_tokens=0,
        reasoning_tokens=_int(usage, "completion_tokens_details", "reasoning_tokens"),
    )


# -- citations (CI-13.3) --


def _score(annotation: Mapping[str, Any]) -> float | None:
    score = annotation.get("score")
    if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1:
        return float(score)
    return None


def _snippet_and_span(annotation: Mapping[str, Any], text: str) -> tuple[str, Span | None]:
    start, end = annotation.get("start_index"), annotation.get("end_index")
    span = None
    if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end:
        span = Span(start, end)
    snippet = annotation.get("text")
    if isinstance(snippet, str) and snippet:
        return snippet, span
    return (text[start:end] if span else ""), span


def extract_citations(output: Any, file_map: Mapping[str, FileRef]) -> tuple[tuple[Citation, ...], int]:
    """Citations from ``output[].content[].annotations`` and the count of dropped (unmappable) file citations."""
    items: list[Citation] = []
    dropped = 0
    if not isinstance(output, list):
        return (), 0
    for item in output:
        content = item.get("content") if isinstance(item, Mapping) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if not isinstance(part, Mapping):
                continue
            raw_text = part.get("text")
            text = raw_text if isinstance(raw_text, str) else ""
            annotations = part.get("annotations")
            for annotation in annotations if isinstance(annotations, list) else []:
                if not isinstance(annotation, Mapping):
                    continue
                kind = annotation.get("type")
                snippet, span = _snippet_and_span(annotation, text)
                citation: Citation | None = None
                if kind == "file_citation":
                    ref = file_map.get(str(annotation.get("file_id")))
                    if ref is None:
                        dropped += 1
                        continue
                    citation = Citation(
                        source="file",
                        title=ref.filename,
                        attachment_id=ref.attachment_id,
                        snippet=snippet,
                        score=_score(annotation),
                        span=span,
                    )
                elif kind == "url_citation" and isinstance(annotation.get("url"), str):
                    title = annotation.get("title")
                    citation = Citation(
                        source="web",
                        title=title if isinstance(title, str) else "",
                        url=annotation["url"],
                        snippet=snippet,
                        score=_score(annotation),
                        span=span,
                    )
                if citation is not None and citation not in items:
                    items.append(citation)
    return tuple(items), dropped


# -- errors (CI-13.4) --

_CONTEXT_MESSAGE = re.compile(r"(?i)maximum context length|context[ _]length|context window")


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, Mapping):
        nested = body.get("error")
        source = nested if isinstance(nested, Mapping) else body
        code, message = source.get("code"), source.get("message")
        if isinstance(code, str) or isinstance(message, str):
            return (code if isinstance(code, str) else None, message if isinstance(message, str) else None)
    return None, None


def classify_provider_error(status: int | None, code: str | None, message: str | None) -> ProviderErrorCode:
    """CI-13.4 for an upstream answer (``status`` None = an in-stream failure event)."""
    if status == 429 or code in ("rate_limit_exceeded", "rate_limited"):
        return "rate_limited"
    if status == 504:
        return "provider_timeout"
    if (status in (None, 400)) and (
        code == "context_length_exceeded" or (message is not None and _CONTEXT_MESSAGE.search(message))
    ):
        return "context_length_exceeded"
    return "provider_error"


def failed_from_http(status: int, body: Any) -> Failed:
    """A non-SSE upstream answer: ``{"error": {code, message}}``, flat ``{code, message}``, else its first 200 chars.

    ``body`` is the decoded JSON when it parsed, else the raw text/bytes.
    """
    code, message = _error_fields(body)
    if message is None and code is None:
        raw = (
            body.decode("utf-8", errors="replace")
            if isinstance(body, (bytes, bytearray))
            else str(body or "")
        )
        message = raw[:_MESSAGE_MAX_CHARS]
    text = message if message is not None else (code or "")
    return Failed(
        code=classify_provider_error(status, code, message),
        message=sanitize_provider_text(text[:_MESSAGE_MAX_CHARS]) or f"provider answered HTTP {status}",
    )


GatewayFailureKind = Literal[
    "rate_limited",
    "connect_timeout",
    "request_timeout",
    "idle_timeout",
    "stream_aborted",
    "link",
    "circuit",
    "other",
]


def failed_from_gateway(kind: GatewayFailureKind, message: str = "") -> Failed:
    """oagw's own failures: its rate limit → ``rate_limited``; its timeouts → ``provider_timeout``; rest → error."""
    if kind == "rate_limited":
        code: ProviderErrorCode = "rate_limited"
    elif kind in ("connect_timeout", "request_timeout", "idle_timeout"):
        code = "provider_timeout"
    else:
        code = "provider_error"
    return Failed(
        code=code, message=sanitize_provider_text(message[:_MESSAGE_MAX_CHARS]) or "gateway failure"
    )


def _failed_from_event(error: Any, usage: ProviderUsage | None = None) -> Failed:
    code, message = _error_fields(
        error if isinstance(error, Mapping) and "error" in error else {"error": error}
    )
    return Failed(
        code=classify_provider_error(None, code, message),
        message=sanitize_provider_text((message or code or "provider stream failed")[:_MESSAGE_MAX_CHARS]),
        usage=usage,
    )


def stream_ended_without_terminal() -> Failed:
    return Failed(code="provider_error", message="The provider stream ended without a terminal event.")


def malformed_event() -> Failed:
    return Failed(code="provider_error", message="The provider sent a malformed event.")


# -- <think> splitting (CI-13.7) --

_OPEN, _CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Routes ``<think>…</think>`` to reasoning; tags split across chunks are buffered until decidable."""

    def __init__(self) -> None:
        self._inside = False
        self._pending = ""
        self._strip_leading = False

    def _partial_tag_suffix(self, text: str, tag: str) -> int:
        for size in range(min(len(tag) - 1, len(text)), 0, -1):
            if text.endswith(tag[:size]):
                return size
        return 0

    def feed(self, chunk: str) -> list[TextDelta | ReasoningDelta]:
        text = self._pending + chunk
        self._pending = ""
        out: list[TextDelta | ReasoningDelta] = []
        while text:
            tag = _CLOSE if self._inside else _OPEN
            index = text.find(tag)
            if index < 0:
                keep = self._partial_tag_suffix(text, tag)
                emit, self._pending = (text[:-keep], text[-keep:]) if keep else (text, "")
                self._emit(emit, out)
                break
            self._emit(text[:index], out)
            text = text[index + len(tag) :]
            if self._inside:
                self._strip_leading = True
            self._inside = not self._inside
        return out

    def _emit(self, text: str, out: list[TextDelta | ReasoningDelta]) -> None:
        if self._inside:
            if text:
                out.append(ReasoningDelta(text))
            return
        if self._strip_leading:
            text = text.lstrip()
            if text:
                self._strip_leading = False
        if text:
            out.append(TextDelta(text))

    def flush(self) -> list[TextDelta | ReasoningDelta]:
        text, self._pending = self._pending, ""
        out: list[TextDelta | ReasoningDelta] = []
        self._emit(text, out)
        return out


# -- Responses API (and vLLM) --

_TOOL_EVENTS: dict[str, tuple[ToolName, str]] = {
    "response.file_search_call.searching": ("file_search", "start"),
    "response.file_search_call.completed": ("file_search", "done"),
    "response.web_search_call.searching": ("web_search", "start"),
    "response.web_search_call.completed": ("web_search", "done"),
    "response.code_interpreter_call.in_progress": ("code_interpreter", "start"),
    "response.code_interpreter_call.completed": ("code_interpreter", "done"),
}
_INCOMPLETE_REASONS: dict[str, IncompleteReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "content_filter",
}


def _code_interpreter_logs(item: Mapping[str, Any]) -> str:
    outputs = item.get("outputs")
    logs = [
        o["logs"]
        for o in (outputs if isinstance(outputs, list) else [])
        if isinstance(o, Mapping) and o.get("type") == "logs" and isinstance(o.get("logs"), str)
    ]
    return sanitize_provider_text("\n".join(logs))[:CODE_INTERPRETER_OUTPUT_MAX_CHARS]


class ResponsesNormalizer:
    """Responses API events → normalized events. ``think_tags`` enables the vLLM ``<think>`` split.

    ``file_map`` maps provider file ids to attachments for citations; ``files_searchable`` is the number of
    documents the chat's store holds, reported as ``files_searched`` when a file search completes.
    """

    def __init__(
        self,
        file_map: Mapping[str, FileRef] | None = None,
        *,
        files_searchable: int = 0,
        think_tags: bool = False,
    ) -> None:
        self._file_map = dict(file_map or {})
        self._files_searchable = files_searchable
        self._think = ThinkSplitter() if think_tags else None
        self._ci_pending: set[str] = set()
        self._ci_logs: dict[str, str] = {}
        self.terminal: ProviderEvent | None = None

    def feed(self, event_type: str | None, data: Any) -> list[ProviderEvent]:
        """One parsed SSE event (``event:`` name, decoded ``data``); nothing is emitted after a terminal."""
        if self.terminal is not None:
            return []
        if not isinstance(data, Mapping):
            return self._finish([malformed_event()])
        kind = event_type or data.get("type")
        if kind == "response.output_text.delta":
            delta = data.get("delta")
            if not isinstance(delta, str):
                return self._finish([malformed_event()])
            if self._think is not None:
                return list(self._think.feed(delta))
            return [TextDelta(delta)] if delta else []
        if kind in _TOOL_EVENTS:
            return self._tool_event(kind, data)
        if kind == "response.output_item.done":
            return self._item_done(data.get("item"))
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            return self._terminal(kind, data.get("response"))
        if kind == "error":
            return self._finish([_failed_from_event(data)])
        return []

    def _tool_event(self, kind: str, data: Mapping[str, Any]) -> list[ProviderEvent]:
        name, phase = _TOOL_EVENTS[kind]
        if phase == "start":
            return [ToolStart(name)]
        if name == "file_search":
            return [ToolDone(name, {"files_searched": self._files_searchable})]
        if name == "web_search":
            return [ToolDone(name, {})]
        item_id = str(data.get("item_id", ""))
        if item_id in self._ci_logs:
            return [ToolDone(name, {"output": self._ci_logs.pop(item_id)})]
        self._ci_pending.add(item_id)  # logs arrive with the item; emit then
        return []

    def _item_done(self, item: Any) -> list[ProviderEvent]:
        if not isinstance(item, Mapping) or item.get("type") != "code_interpreter_call":
            return []
        item_id = str(item.get("id", ""))
        logs = _code_interpreter_logs(item)
        if item_id in self._ci_pending:
            self._ci_pending.discard(item_id)
            return [ToolDone("code_interpreter", {"output": logs})]
        self._ci_logs[item_id] = logs
        return []

    def _flush(self) -> list[ProviderEvent]:
        out: list[ProviderEvent] = list(self._think.flush()) if self._think is not None else []
        out.extend(ToolDone("code_interpreter", {"output": ""}) for _ in sorted(self._ci_pending))
        self._ci_pending.clear()
        return out

    def _finish(self, events: list[ProviderEvent]) -> list[ProviderEvent]:
        out = self._flush() if not isinstance(events[-1], Failed) else []
        self.terminal = events[-1]
        return out + events

    def _terminal(self, kind: str, response: Any) -> list[ProviderEvent]:
        response = response if isinstance(response, Mapping) else {}
        usage = usage_from_responses(response.get("usage"))
        response_id = response.get("id") if isinstance(response.get("id"), str) else None
        if kind == "response.completed":
            citations, dropped = extract_citations(response.get("output"), self._file_map)
            return self._finish(
                [
                    Completed(
                        usage=usage, response_id=response_id, citations=citations, citations_dropped=dropped
                    )
                ]
            )
        if kind == "response.incomplete":
            details = response.get("incomplete_details")
            raw = details.get("reason") if isinstance(details, Mapping) else None
            reason = _INCOMPLETE_REASONS.get(raw if isinstance(raw, str) else "", "other")
            return self._finish([Incomplete(reason=reason, usage=usage, response_id=response_id)])
        return self._finish([_failed_from_event(response.get("error") or {}, usage)])

    def end(self) -> list[ProviderEvent]:
        """The stream closed; without a terminal that is ``Failed(provider_error)``."""
        if self.terminal is not None:
            return []
        return self._finish([stream_ended_without_terminal()])


# -- Chat Completions --

_CHAT_FINISH: dict[str, IncompleteReason] = {"length": "max_tokens", "content_filter": "content_filter"}


class ChatCompletionsNormalizer:
    """``data:`` chunks → normalized events; ``finish_reason`` is kept until the usage chunk or ``[DONE]``."""

    def __init__(self, *, think_tags: bool = False) -> None:
        self._think = ThinkSplitter() if think_tags else None
        self._finish_reason: str | None = None
        self._response_id: str | None = None
        self.terminal: ProviderEvent | None = None

    def feed(self, data: Any) -> list[ProviderEvent]:
        """A decoded chunk, or the literal string ``"[DONE]"``."""
        if self.terminal is not None:
            return []
        if data == "[DONE]":
            return self._close(None) if self._finish_reason is not None else self._done_without_reason()
        if not isinstance(data, Mapping):
            return self._set_terminal([malformed_event()])
        if data.get("error"):
            return self._set_terminal([_failed_from_event(data)])
        if isinstance(data.get("id"), str):
            self._response_id = data["id"]
        out: list[ProviderEvent] = []
        choices = data.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            choice = choices[0]
            delta = choice.get("delta")
            content = delta.get("content") if isinstance(delta, Mapping) else None
            if isinstance(content, str) and content:
                out.extend(self._think.feed(content) if self._think is not None else [TextDelta(content)])
            if isinstance(choice.get("finish_reason"), str):
                self._finish_reason = choice["finish_reason"]
        usage = usage_from_chat(data.get("usage"))
        if usage is not None and self._finish_reason is not None:
            out.extend(self._close(usage))
        return out

    def _done_without_reason(self) -> list[ProviderEvent]:
        return self._set_terminal([stream_ended_without_terminal()])

    def _close(self, usage: ProviderUsage | None) -> list[ProviderEvent]:
        out: list[ProviderEvent] = list(self._think.flush()) if self._think is not None else []
        reason = _CHAT_FINISH.get(self._finish_reason or "")
        terminal: ProviderEvent
        if reason is not None:
            terminal = Incomplete(reason=reason, usage=usage, response_id=self._response_id)
        else:
            terminal = Completed(usage=usage, response_id=self._response_id)
        return out + self._set_terminal([terminal])

    def _set_terminal(self, events: list[ProviderEvent]) -> list[ProviderEvent]:
        self.terminal = events[-1]
        return events

    def end(self) -> list[ProviderEvent]:
        """Stream closed: a kept finish reason still completes (usage unknown), otherwise ``provider_error``."""
        if self.terminal is not None:
            return []
        if self._finish_reason is not None:
            return self._close(None)
        return self._set_terminal([stream_ended_without_terminal()])
