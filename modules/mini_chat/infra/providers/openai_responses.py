"""OpenAI Responses API (``openai_responses``; CI-13.1 … CI-13.3, CI-13.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from fabrikit.modules.oagw.sdk import ServerEvent

from ...domain.ports import ProviderCallError
from ...domain.provider_events import (
    FileRef,
    ProviderEvent,
    ReasoningDelta,
    ResponsesNormalizer,
    ThinkSplitter,
    usage_from_responses,
)
from ...domain.provider_usage import ProviderUsage
from ...domain.sanitize import sanitize_provider_text
from .base import event_data

# -- typed non-streaming payload (unknown fields ignored) --


class _Details(msgspec.Struct, kw_only=True):
    cached_tokens: int = 0
    reasoning_tokens: int = 0


class _Usage(msgspec.Struct, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0
    input_tokens_details: _Details | None = None
    output_tokens_details: _Details | None = None


class _Part(msgspec.Struct, kw_only=True):
    type: str = ""
    text: str | None = None


class _Item(msgspec.Struct, kw_only=True):
    type: str = ""
    content: list[_Part] | str | None = None


class _Error(msgspec.Struct, kw_only=True):
    code: str | None = None
    message: str | None = None


class _Response(msgspec.Struct, kw_only=True):
    status: str | None = None
    output: list[_Item] = []
    output_text: str | None = None
    usage: _Usage | None = None
    error: _Error | None = None


_DECODER = msgspec.json.Decoder(_Response)


def _usage(usage: _Usage | None) -> ProviderUsage | None:
    if usage is None:
        return None
    return ProviderUsage(
        input_tokens=max(usage.input_tokens, 0),
        output_tokens=max(usage.output_tokens, 0),
        cache_read_input_tokens=max(usage.input_tokens_details.cached_tokens, 0)
        if usage.input_tokens_details
        else 0,
        reasoning_tokens=max(usage.output_tokens_details.reasoning_tokens, 0)
        if usage.output_tokens_details
        else 0,
    )


def _joined_text(response: _Response) -> str:
    texts: list[str] = []
    for item in response.output:
        if item.type != "message":
            continue
        if isinstance(item.content, str):
            texts.append(item.content)
            continue
        texts.extend(p.text for p in item.content or () if p.type == "output_text" and p.text)
    if not texts and response.output_text:
        texts.append(response.output_text)
    return "".join(texts)


def decode_response(payload: bytes) -> _Response:
    try:
        response = _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise ProviderCallError("provider_error", "The provider sent a malformed response.") from None
    if response.status == "failed" or response.error is not None:
        error = response.error or _Error()
        message = sanitize_provider_text((error.message or error.code or "provider call failed")[:200])
        code = "context_length_exceeded" if error.code == "context_length_exceeded" else "provider_error"
        raise ProviderCallError(code, message)
    return response


class _ResponsesEvents:
    """Adapts SSE events to ``ResponsesNormalizer`` (``event:`` name first, then the payload's ``type``)."""

    def __init__(self, normalizer: ResponsesNormalizer) -> None:
        self._normalizer = normalizer

    @property
    def terminal(self) -> ProviderEvent | None:
        return self._normalizer.terminal

    def feed(self, event: ServerEvent) -> list[ProviderEvent]:
        name = event.event if event.event != "message" else None
        return self._normalizer.feed(name, event_data(event))

    def end(self) -> list[ProviderEvent]:
        return self._normalizer.end()


class ResponsesWire:
    """Responses API events and JSON; ``think_tags`` splits vLLM ``<think>`` text into reasoning."""

    think_tags = False

    def normalizer(self, file_map: Mapping[str, FileRef], files_searchable: int) -> _ResponsesEvents:
        return _ResponsesEvents(
            ResponsesNormalizer(file_map, files_searchable=files_searchable, think_tags=self.think_tags)
        )

    def completion_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "stream": False}

    def completion_result(self, payload: bytes) -> tuple[str, ProviderUsage | None]:
        response = decode_response(payload)
        text = _joined_text(response)
        if self.think_tags:
            text = strip_think(text)
        return text, _usage(response.usage)

    def usage_of(self, payload: Any) -> ProviderUsage | None:
        return usage_from_responses(payload.get("usage")) if isinstance(payload, Mapping) else None


def strip_think(text: str) -> str:
    """The answer without its ``<think>…</think>`` reasoning (CI-13.7)."""
    splitter = ThinkSplitter()
    parts = [*splitter.feed(text), *splitter.flush()]
    return "".join(p.delta for p in parts if not isinstance(p, ReasoningDelta))
