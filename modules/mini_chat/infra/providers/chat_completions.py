"""OpenAI Chat Completions (``openai_chat_completions``; CI-13.6, CI-13.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from fabrikit.modules.oagw.sdk import ServerEvent

from ...domain.ports import ProviderCallError
from ...domain.provider_events import ChatCompletionsNormalizer, FileRef, ProviderEvent, usage_from_chat
from ...domain.provider_usage import ProviderUsage
from ...domain.sanitize import sanitize_provider_text
from .base import event_data


class _PromptDetails(msgspec.Struct, kw_only=True):
    cached_tokens: int = 0


class _CompletionDetails(msgspec.Struct, kw_only=True):
    reasoning_tokens: int = 0


class _Usage(msgspec.Struct, kw_only=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None


class _Message(msgspec.Struct, kw_only=True):
    content: str | None = None


class _Choice(msgspec.Struct, kw_only=True):
    message: _Message | None = None


class _Error(msgspec.Struct, kw_only=True):
    code: str | None = None
    message: str | None = None


class _Completion(msgspec.Struct, kw_only=True):
    choices: list[_Choice] = []
    usage: _Usage | None = None
    error: _Error | None = None


_DECODER = msgspec.json.Decoder(_Completion)


def _usage(usage: _Usage | None) -> ProviderUsage | None:
    if usage is None:
        return None
    prompt, completion = usage.prompt_tokens_details, usage.completion_tokens_details
    return ProviderUsage(
        input_tokens=max(usage.prompt_tokens, 0),
        output_tokens=max(usage.completion_tokens, 0),
        cache_read_input_tokens=max(prompt.cached_tokens, 0) if prompt else 0,
        reasoning_tokens=max(completion.reasoning_tokens, 0) if completion else 0,
    )


class _ChatEvents:
    """``data:`` chunks (and the literal ``[DONE]``) into ``ChatCompletionsNormalizer``."""

    def __init__(self, normalizer: ChatCompletionsNormalizer) -> None:
        self._normalizer = normalizer

    @property
    def terminal(self) -> ProviderEvent | None:
        return self._normalizer.terminal

    def feed(self, event: ServerEvent) -> list[ProviderEvent]:
        return self._normalizer.feed("[DONE]" if event.is_done else event_data(event))

    def end(self) -> list[ProviderEvent]:
        return self._normalizer.end()


class ChatCompletionsWire:
    think_tags = False

    def normalizer(self, file_map: Mapping[str, FileRef], files_searchable: int) -> _ChatEvents:
        return _ChatEvents(ChatCompletionsNormalizer(think_tags=self.think_tags))

    def completion_body(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in body.items() if k != "stream_options"}
        out["stream"] = False
        return out

    def completion_result(self, payload: bytes) -> tuple[str, ProviderUsage | None]:
        try:
            completion = _DECODER.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise ProviderCallError("provider_error", "The provider sent a malformed response.") from None
        if completion.error is not None:
            error = completion.error
            code = "context_length_exceeded" if error.code == "context_length_exceeded" else "provider_error"
            raise ProviderCallError(
                code, sanitize_provider_text((error.message or "provider call failed")[:200])
            )
        message = completion.choices[0].message if completion.choices else None
        return (message.content or "") if message else "", _usage(completion.usage)

    def usage_of(self, payload: Any) -> ProviderUsage | None:
        return usage_from_chat(payload.get("usage")) if isinstance(payload, Mapping) else None
