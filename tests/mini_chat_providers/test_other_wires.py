"""Chat Completions (CI-13.6), vLLM (CI-13.7), Azure (CI-13.5) and non-streaming ``complete()`` (CI-13.8)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from fabrikit.modules.mini_chat.domain.ports import CompletionRequest, ProviderCallError
from fabrikit.modules.mini_chat.domain.provider_events import (
    Completed,
    Failed,
    Incomplete,
    ReasoningDelta,
    TextDelta,
)
from fabrikit.modules.mock_llm import MockLlmServer

from .support import (
    MOCK_KEY,
    TENANT,
    chat_body,
    collect,
    provider_entry,
    provider_env,
    request,
    responses_body,
)

pytestmark = pytest.mark.timeout(60)

AZURE_PATH = "/openai/deployments/{model}/responses?api-version=2025-03-01-preview"


def _text(events: list[object]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextDelta))


def providers(port: int) -> dict[str, object]:
    azure_auth = {"header": "api-key", "prefix": "", "secret_ref": "cred://mock-llm-key"}
    return {
        "mock": provider_entry(port),
        "chat": provider_entry(port, kind="openai_chat_completions", api_path=None),
        "vllm": provider_entry(
            port, kind="vllm_responses", upstream_alias="vllm-mock", auth_plugin_type=None, auth_config=None
        ),
        "azure": provider_entry(
            port,
            kind="azure_openai_responses",
            upstream_alias="azure-mock",
            api_path=AZURE_PATH,
            storage_kind="azure",
            api_version="2025-03-01-preview",
            auth_config=azure_auth,
        ),
    }


async def test_chat_completions_stream_with_done_and_usage(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, providers(mock_llm.port)) as env:  # type: ignore[arg-type]
        events, state = await collect(env, request(chat_body("one two three"), provider_id="chat"))
        capped, _ = await collect(
            env, request(chat_body("one two three", max_completion_tokens=2), provider_id="chat")
        )
        no_usage, _ = await collect(env, request(chat_body("a b", stream_options={}), provider_id="chat"))
        failing, _ = await collect(
            env, request(chat_body("a b c d [[mock:fail_after=2]]"), provider_id="chat")
        )
    record = mock_llm.requests("/v1/chat/completions")[0]
    assert record["json"]["stream_options"] == {"include_usage": True}
    assert _text(events) == "one two three"
    terminal = events[-1]
    assert isinstance(terminal, Completed)
    assert terminal.usage is not None
    assert terminal.usage.input_tokens > 0
    assert terminal.usage.output_tokens == 3
    assert terminal.response_id is not None
    assert terminal.response_id.startswith("chatcmpl-")
    assert state.dispatched
    assert not state.nothing_generated
    assert isinstance(capped[-1], Incomplete)
    assert capped[-1].reason == "max_tokens"
    # [DONE] after a kept finish reason and no usage chunk → completed, usage unknown.
    assert isinstance(no_usage[-1], Completed)
    assert no_usage[-1].usage is None
    assert isinstance(failing[-1], Failed)
    assert failing[-1].code == "provider_error"
    assert _text(failing) == "a b"


async def test_chat_completions_input_usage_matches_the_mock(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, providers(mock_llm.port)) as env:  # type: ignore[arg-type]
        events, _ = await collect(env, request(chat_body("x [[mock:usage=77:5:11:2]]"), provider_id="chat"))
    terminal = events[-1]
    assert isinstance(terminal, Completed)
    assert terminal.usage is not None
    usage = terminal.usage
    assert (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.reasoning_tokens,
    ) == (
        77,
        5,
        11,
        2,
    )


async def test_vllm_think_is_reasoning_not_text(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, providers(mock_llm.port)) as env:  # type: ignore[arg-type]
        events, _ = await collect(
            env, request(responses_body("the answer [[mock:think=4]]"), provider_id="vllm")
        )
    reasoning = "".join(e.delta for e in events if isinstance(e, ReasoningDelta))
    assert len(reasoning.split()) == 4
    assert "<think>" not in reasoning
    assert "</think>" not in reasoning
    assert _text(events) == "the answer"
    assert isinstance(events[-1], Completed)
    assert events[-1].usage is not None
    assert events[-1].usage.reasoning_tokens == 4
    # No credentials configured for this provider: none are sent.
    assert "Authorization" not in mock_llm.requests("/v1/responses")[-1]["headers"]


async def test_azure_deployment_path_api_version_and_api_key(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, providers(mock_llm.port)) as env:  # type: ignore[arg-type]
        events, _ = await collect(
            env,
            request(
                responses_body("hi azure", model="my-deploy"),
                provider_id="azure",
                kind="azure_openai_responses",
            ),
        )
    assert _text(events) == "hi azure"
    assert isinstance(events[-1], Completed)
    record = mock_llm.requests("/openai/")[-1]
    assert record["path"] == "/openai/deployments/my-deploy/responses"
    assert record["query"] == {"api-version": "2025-03-01-preview"}
    assert record["headers"]["api-key"] == MOCK_KEY
    assert "Authorization" not in record["headers"]


def completion(provider_id: str, body: dict[str, object], timeout: float = 10) -> CompletionRequest:
    return CompletionRequest(
        tenant_id=TENANT,
        chat_id=uuid4(),
        provider_id=provider_id,
        provider_kind="",
        provider_model_id=str(body["model"]),
        body=body,
        timeout_seconds=timeout,
    )


async def test_complete_returns_text_and_usage(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, providers(mock_llm.port)) as env:  # type: ignore[arg-type]
        result = await env.providers.complete(completion("mock", responses_body("summarize this please")))
        chat = await env.providers.complete(completion("chat", chat_body("short summary")))
        vllm = await env.providers.complete(
            completion("vllm", responses_body("final words [[mock:think=3]]"))
        )
        azure = await env.providers.complete(
            completion("azure", responses_body("azure summary", model="dep"))
        )
    assert result.text == "summarize this please"
    assert result.usage is not None
    assert result.usage.output_tokens == 3
    assert result.usage.input_tokens == -(-len("summarize this please") // 4)
    assert chat.text == "short summary"
    assert chat.usage is not None
    assert chat.usage.output_tokens == 2
    assert vllm.text.strip() == "final words"
    assert "think" not in vllm.text
    assert azure.text == "azure summary"
    bodies = [r["json"] for r in mock_llm.requests()]
    assert all(b["stream"] is False for b in bodies)
    assert all("stream_options" not in b for b in bodies)


@pytest.mark.parametrize(
    ("directive", "code"),
    [("error=500", "provider_error"), ("error=429", "rate_limited"), ("fail_after=1", "provider_error")],
)
async def test_complete_failures_raise_provider_call_error(
    mock_llm: MockLlmServer, directive: str, code: str
) -> None:
    async with provider_env(mock_llm) as env:
        with pytest.raises(ProviderCallError) as info:
            await env.providers.complete(completion("mock", responses_body(f"a b [[mock:{directive}]]")))
    assert info.value.code == code


async def test_complete_timeout_is_provider_timeout(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        with pytest.raises(ProviderCallError) as info:
            await env.providers.complete(completion("mock", responses_body("x [[mock:hang]]"), timeout=0.3))
    assert info.value.code == "provider_timeout"
