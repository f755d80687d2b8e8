"""Chat Completions chunks (M-6) built from a :class:`ReplyPlan`; ``data:`` lines only, no ``event:``."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from .plan import ReplyPlan, Usage
from .responses_stream import DeltaTexts, new_id

_encode = msgspec.json.encode
DONE = b"data: [DONE]\n\n"


def chat_usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


class ChatEncoder:
    def __init__(self, plan: ReplyPlan) -> None:
        self.plan = plan
        self.terminal: str | None = None
        self.id = new_id("chatcmpl").replace("_", "-", 1)
        self.created = int(time.time())
        self.call_id = new_id("call")
        self.delta_count = plan.deltas
        head = _encode(
            {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": plan.model}
        )
        # Every content chunk is `head` + choices with only the delta text varying.
        if plan.function_call:
            self._delta_head = (
                b"data: " + head[:-1] + b',"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
            )
            self._delta_head += b'"function":{"arguments":'
            self._delta_tail = b'}}]},"finish_reason":null}]}\n\n'
        else:
            self._delta_head = b"data: " + head[:-1] + b',"choices":[{"index":0,"delta":{"content":'
            self._delta_tail = b'},"finish_reason":null}]}\n\n'
        self._delta_texts = DeltaTexts(plan)

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.plan.model,
            "choices": choices,
            **extra,
        }
        return b"data: " + _encode(body) + b"\n\n"

    def write_delta(self, buf: bytearray, k: int) -> None:
        buf += self._delta_head
        buf += self._delta_texts.encoded(k)
        buf += self._delta_tail

    def malformed(self) -> bytes:
        return b"data: {not json\n\n"

    def preamble(self) -> list[bytes]:
        return [
            self.chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        ]

    def prelude(self) -> list[bytes]:
        call = self.plan.function_call
        if call is None:
            return []
        tool_call = {
            "index": 0,
            "id": self.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        return [self.chunk([{"index": 0, "delta": {"tool_calls": [tool_call]}, "finish_reason": None}])]

    def finish_reason(self) -> str:
        if self.plan.function_call:
            return "tool_calls"
        return "length" if self.plan.incomplete_reason else "stop"

    def closing(self) -> list[bytes]:
        reason = self.finish_reason()
        events = [self.chunk([{"index": 0, "delta": {}, "finish_reason": reason}])]
        usage = self.plan.usage()
        if self.plan.include_usage and usage is not None:
            events.append(self.chunk([], usage=chat_usage_json(usage)))
        self.terminal = reason
        if not self.plan.directives.no_done:
            events.append(DONE)
        return events

    def failure(self, after_deltas: int) -> list[bytes]:
        self.terminal = "error"
        error = {
            "message": f"mock failure after {after_deltas} deltas",
            "type": "server_error",
            "param": None,
            "code": "server_error",
        }
        return [b"data: " + _encode({"error": error}) + b"\n\n"]

    def final_response(self) -> dict[str, Any]:
        """The ``chat.completion`` object (``stream: false``)."""
        plan = self.plan
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if plan.function_call else plan.text(),
        }
        if plan.function_call:
            message["tool_calls"] = [
                {
                    "id": self.call_id,
                    "type": "function",
                    "function": {"name": plan.function_call.name, "arguments": plan.function_call.arguments},
                }
            ]
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": plan.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason()}],
        }
        usage = plan.usage()
        if usage is not None:
            body["usage"] = chat_usage_json(usage)
        return body
