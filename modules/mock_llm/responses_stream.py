"""Responses API events (M-5) built from a :class:`ReplyPlan`.

Text deltas, the hot path, are spliced from pre-encoded byte templates: only the sequence number and the delta
text vary, and only the text goes through msgspec (M-9.2). Everything else is encoded per event; a stream has
a handful of those.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec

from .plan import CODE_INTERPRETER_CODE, CODE_INTERPRETER_LOGS, ReplyPlan, Usage, place_citations

_encode = msgspec.json.encode
_TOOL_PREFIX = {"file_search": "fs", "web_search": "ws", "code_interpreter": "ci"}
_TOOL_WORK = {"file_search": "searching", "web_search": "searching", "code_interpreter": "interpreting"}
_CACHE_LIMIT = 4096


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class DeltaTexts:
    """The JSON-encoded text of each delta; replies repeat the same few words, so encodings are cached."""

    def __init__(self, plan: ReplyPlan) -> None:
        self._plan = plan
        self._cache: dict[str, bytes] = {}

    def encoded(self, k: int) -> bytes:
        plan = self._plan
        text = plan.function_call.chunks[k] if plan.function_call else plan.delta_text(k)
        encoded = self._cache.get(text)
        if encoded is None:
            encoded = _encode(text)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[text] = encoded
        return encoded


def usage_json(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


class ResponsesEncoder:
    """Encodes one response's events in order; ``sequence_number`` counts every event from 0."""

    def __init__(self, plan: ReplyPlan) -> None:
        self.plan = plan
        self.seq = 0
        self.terminal: str | None = None
        self.response_id = new_id("resp")
        self.created_at = int(time.time())
        self.tool_ids = [new_id(_TOOL_PREFIX[item.kind]) for item in plan.tools]
        self.message_index = len(plan.tools)
        self.item_id = new_id("fc" if plan.function_call else "msg")
        self.call_id = new_id("call")
        self.delta_count = plan.deltas
        delta_type = (
            "response.function_call_arguments.delta" if plan.function_call else "response.output_text.delta"
        )
        self._delta_head = (
            f'event: {delta_type}\ndata: {{"type":"{delta_type}","sequence_number":'.encode(),
            f',"item_id":"{self.item_id}","output_index":{self.message_index},'.encode()
            + (b'"delta":' if plan.function_call else b'"content_index":0,"delta":'),
        )
        self._delta_texts = DeltaTexts(plan)

    # -- framing --
    def event(self, kind: str, payload: dict[str, Any]) -> bytes:
        body = _encode({"type": kind, "sequence_number": self.seq, **payload})
        self.seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + body + b"\n\n"

    def write_delta(self, buf: bytearray, k: int) -> None:
        encoded = self._delta_texts.encoded(k)
        head, mid = self._delta_head
        buf += head
        buf += b"%d" % self.seq
        buf += mid
        buf += encoded
        buf += b"}\n\n"
        self.seq += 1

    def malformed(self) -> bytes:
        return b"event: response.output_text.delta\ndata: {not json\n\n"

    # -- objects --
    def response(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: Usage | None,
        *,
        error: dict[str, Any] | None = None,
        incomplete_reason: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": error,
            "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
            "model": self.plan.model,
            "output": output,
            "usage": usage_json(usage),
        }

    def tool_item(self, index: int, done: bool) -> dict[str, Any]:
        kind = self.plan.tools[index].kind
        item: dict[str, Any] = {
            "id": self.tool_ids[index],
            "type": f"{kind}_call",
            "status": "completed" if done else "in_progress",
        }
        if kind == "file_search":
            item["queries"] = [self.plan.query[:200]] if done else []
            item["results"] = None
        elif kind == "code_interpreter":
            item["code"] = CODE_INTERPRETER_CODE if done else ""
            item["container_id"] = "cntr_mock"
            item["outputs"] = [{"type": "logs", "logs": CODE_INTERPRETER_LOGS}] if done else None
        return item

    def message_item(self, status: str, text: str | None) -> dict[str, Any]:
        plan = self.plan
        if plan.function_call:
            return {
                "id": self.item_id,
                "type": "function_call",
                "status": status,
                "arguments": plan.function_call.arguments if text is not None else "",
                "call_id": self.call_id,
                "name": plan.function_call.name,
            }
        content = [] if text is None else [self.text_part(text)]
        return {
            "id": self.item_id,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def text_part(self, text: str) -> dict[str, Any]:
        return {
            "type": "output_text",
            "text": text,
            "annotations": place_citations(self.plan.citations, text),
        }

    def final_output(self, status: str) -> list[dict[str, Any]]:
        tools = [self.tool_item(i, True) for i in range(len(self.plan.tools))]
        return [*tools, self.message_item(status, self.plan.text())]

    def final_status(self) -> tuple[str, str | None]:
        reason = self.plan.incomplete_reason
        return ("incomplete", reason) if reason else ("completed", None)

    def final_response(self) -> dict[str, Any]:
        """The whole response object (``stream: false``, M-5.4)."""
        status, reason = self.final_status()
        return self.response(status, self.final_output(status), self.plan.usage(), incomplete_reason=reason)

    # -- event groups --
    def preamble(self) -> list[bytes]:
        created = self.response("in_progress", [], None)
        return [
            self.event("response.created", {"response": created}),
            self.event("response.in_progress", {"response": created}),
        ]

    def prelude(self) -> list[bytes]:
        events = []
        for index, item in enumerate(self.plan.tools):
            ref = {"output_index": index, "item_id": self.tool_ids[index]}
            call = f"response.{item.kind}_call"
            events += [
                self.event(
                    "response.output_item.added",
                    {"output_index": index, "item": self.tool_item(index, False)},
                ),
                self.event(f"{call}.in_progress", ref),
                self.event(f"{call}.{_TOOL_WORK[item.kind]}", ref),
                self.event(f"{call}.completed", ref),
                self.event(
                    "response.output_item.done", {"output_index": index, "item": self.tool_item(index, True)}
                ),
            ]
        events.append(
            self.event(
                "response.output_item.added",
                {"output_index": self.message_index, "item": self.message_item("in_progress", None)},
            )
        )
        if not self.plan.function_call:
            events.append(
                self.event(
                    "response.content_part.added",
                    {**self._text_ref(), "part": {"type": "output_text", "text": "", "annotations": []}},
                )
            )
        return events

    def _text_ref(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "output_index": self.message_index, "content_index": 0}

    def closing(self) -> list[bytes]:
        status, reason = self.final_status()
        text = self.plan.text()
        events = []
        if self.plan.function_call:
            events.append(
                self.event(
                    "response.function_call_arguments.done",
                    {
                        "item_id": self.item_id,
                        "output_index": self.message_index,
                        "arguments": self.plan.function_call.arguments,
                    },
                )
            )
        else:
            for index, annotation in enumerate(place_citations(self.plan.citations, text)):
                events.append(
                    self.event(
                        "response.output_text.annotation.added",
                        {**self._text_ref(), "annotation_index": index, "annotation": annotation},
                    )
                )
            events += [
                self.event("response.output_text.done", {**self._text_ref(), "text": text}),
                self.event("response.content_part.done", {**self._text_ref(), "part": self.text_part(text)}),
            ]
        events.append(
            self.event(
                "response.output_item.done",
                {"output_index": self.message_index, "item": self.message_item(status, text)},
            )
        )
        self.terminal = f"response.{status}"
        response = self.response(
            status, self.final_output(status), self.plan.usage(), incomplete_reason=reason
        )
        events.append(self.event(self.terminal, {"response": response}))
        return events

    def failure(self, after_deltas: int) -> list[bytes]:
        message = f"mock failure after {after_deltas} deltas"
        mode = self.plan.directives.fail_event
        if mode == "error":
            self.terminal = "error"
            return [self.event("error", {"code": "server_error", "message": message, "param": None})]
        if mode == "error_nested":
            self.terminal = "error"
            nested = {"type": "server_error", "code": "server_error", "message": message, "param": None}
            return [self.event("error", {"error": nested})]
        self.terminal = "response.failed"
        words = min(after_deltas * self.plan.words_per_delta, self.plan.words)
        response = self.response(
            "failed", [], self.plan.usage(words), error={"code": "server_error", "message": message}
        )
        return [self.event("response.failed", {"response": response})]
