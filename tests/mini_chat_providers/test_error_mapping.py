"""oagw failures → CI-13.4 codes and the CI-6 "nothing generated" fact; SSE events → normalized events (pure)."""

from __future__ import annotations

import pytest

from fabrikit.modules.mini_chat.domain.provider_events import Completed, ReasoningDelta, TextDelta
from fabrikit.modules.mini_chat.infra.providers import raised_before_forwarding
from fabrikit.modules.mini_chat.infra.providers.base import failed_from_oagw
from fabrikit.modules.mini_chat.infra.providers.chat_completions import ChatCompletionsWire
from fabrikit.modules.mini_chat.infra.providers.vllm import VllmResponsesWire
from fabrikit.modules.oagw.sdk import (
    AuthenticationFailedError,
    CircuitBreakerOpenError,
    ConnectionTimeoutError,
    DownstreamError,
    IdleTimeoutError,
    LinkUnavailableError,
    OagwError,
    ProtocolError,
    RateLimitExceededError,
    RequestTimeoutError,
    RouteNotFoundError,
    SecretNotFoundError,
    ServerEvent,
    StreamAbortedError,
    TargetBlockedError,
    UpstreamDisabledError,
)


@pytest.mark.parametrize(
    ("error", "code", "before"),
    [
        (RateLimitExceededError(3), "rate_limited", True),
        (ConnectionTimeoutError("connect"), "provider_timeout", True),
        (LinkUnavailableError("dns"), "provider_error", True),
        (CircuitBreakerOpenError(5), "provider_error", True),
        (TargetBlockedError(), "provider_error", True),
        (RouteNotFoundError("no route"), "provider_error", True),
        (UpstreamDisabledError("off"), "provider_error", True),
        (AuthenticationFailedError("auth"), "provider_error", True),
        (SecretNotFoundError("secret"), "provider_error", True),
        (DownstreamError("guard", status=500), "provider_error", True),
        (RequestTimeoutError("headers late"), "provider_timeout", False),
        (IdleTimeoutError("idle"), "provider_timeout", False),
        (StreamAbortedError("cut"), "provider_error", False),
        (ProtocolError("bad http"), "provider_error", False),
        (DownstreamError("closed before answering"), "provider_error", False),
    ],
)
def test_gateway_errors(error: OagwError, code: str, before: bool) -> None:
    failed = failed_from_oagw(error)
    assert failed.code == code
    assert failed.message
    assert raised_before_forwarding(error) is before


def test_gateway_messages_are_sanitized() -> None:
    failed = failed_from_oagw(
        LinkUnavailableError("cannot reach https://internal.example/v1 with Bearer sk-abcdef123")
    )
    assert "https://" not in failed.message
    assert "sk-abcdef123" not in failed.message


def _sse(data: str, event: str = "message") -> ServerEvent:
    return ServerEvent(event=event, data=data)


def _delta(text: str) -> ServerEvent:
    import msgspec

    payload = {"type": "response.output_text.delta", "delta": text}
    return _sse(msgspec.json.encode(payload).decode(), "response.output_text.delta")


def test_vllm_think_tags_split_across_chunks() -> None:
    normalizer = VllmResponsesWire().normalizer({}, 0)
    out = []
    for chunk in ["<thi", "nk>let me", " think</th", "ink>\n", "The answer", " is 4."]:
        out += normalizer.feed(_delta(chunk))
    out += normalizer.feed(
        _sse('{"type":"response.completed","response":{"id":"r1","usage":null}}', "response.completed")
    )
    reasoning = "".join(e.delta for e in out if isinstance(e, ReasoningDelta))
    text = "".join(e.delta for e in out if isinstance(e, TextDelta))
    assert reasoning == "let me think"
    assert text == "The answer is 4."
    assert isinstance(out[-1], Completed)


def test_chat_done_and_malformed_chunks() -> None:
    wire = ChatCompletionsWire()
    normalizer = wire.normalizer({}, 0)
    out = normalizer.feed(
        _sse('{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}')
    )
    out += normalizer.feed(_sse('{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'))
    out += normalizer.feed(_sse("[DONE]"))
    assert out[0] == TextDelta("hi")
    assert isinstance(out[-1], Completed)
    assert out[-1].usage is None
    broken = wire.normalizer({}, 0)
    failed = broken.feed(_sse("{not json"))
    assert broken.terminal is failed[-1]
    assert failed[-1].code == "provider_error"


def test_completion_bodies_are_not_streamed() -> None:
    assert ChatCompletionsWire().completion_body(
        {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    ) == {"model": "m", "stream": False}
    assert VllmResponsesWire().completion_body({"model": "m", "stream": True}) == {
        "model": "m",
        "stream": False,
    }


def test_vllm_completion_text_drops_reasoning() -> None:
    payload = (
        b'{"status":"completed","output":[{"type":"message","content":[{"type":"output_text",'
        b'"text":"<think>hmm</think>\\nDone.","annotations":[]}]}],"usage":{"input_tokens":3,"output_tokens":4,'
        b'"output_tokens_details":{"reasoning_tokens":1},"extra":1}}'
    )
    text, usage = VllmResponsesWire().completion_result(payload)
    assert text == "Done."
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        3,
        4,
        1,
    )
