"""Cancellation closes the upstream (CI-4.6); oagw's timeouts become ``provider_timeout`` (CI-13.4)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from fabrikit.modules.mini_chat.domain.ports import DispatchState
from fabrikit.modules.mini_chat.domain.provider_events import Failed, ProviderEvent, TextDelta
from fabrikit.modules.mock_llm import MockLlmServer

from .support import collect, provider_entry, provider_env, request, responses_body

pytestmark = pytest.mark.timeout(60)


async def _wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Polls state owned by the mock server, which offers no event to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _consume(events: list[ProviderEvent], stream: object) -> None:
    async for event in stream:  # type: ignore[attr-defined]
        events.append(event)


async def test_cancelling_the_consumer_of_a_hanging_call_closes_the_upstream(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        state = DispatchState()
        seen: list[ProviderEvent] = []
        child = asyncio.create_task(
            _consume(seen, env.providers.stream(request(responses_body("x [[mock:hang]]")), state))
        )
        await _wait_for(lambda: bool(mock_llm.requests("/v1/responses")))
        child.cancel()
        done, _ = await asyncio.wait({child}, timeout=1.0)
        assert child in done
        assert child.cancelled()
        await _wait_for(lambda: mock_llm.requests("/v1/responses")[-1]["outcome"]["disconnected"])
    assert state.dispatched
    assert seen == []


async def test_cancelling_mid_stream_closes_the_upstream(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        seen: list[ProviderEvent] = []
        stream = env.providers.stream(
            request(responses_body("[[mock:lorem=100000,latency=20]]")), DispatchState()
        )
        child = asyncio.create_task(_consume(seen, stream))
        await _wait_for(lambda: len(seen) >= 3)
        child.cancel()
        done, _ = await asyncio.wait({child}, timeout=1.0)
        assert child in done
        await _wait_for(lambda: mock_llm.requests("/v1/responses")[-1]["outcome"]["disconnected"])
        sent = mock_llm.requests("/v1/responses")[-1]["outcome"]["events_sent"]
    assert all(isinstance(e, TextDelta) for e in seen)
    assert sent < 200  # generation stopped at the disconnect


async def test_aclose_closes_the_upstream(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        stream = env.providers.stream(
            request(responses_body("[[mock:lorem=100000,latency=20]]")), DispatchState()
        )
        first = await anext(stream)  # type: ignore[call-overload]
        assert isinstance(first, TextDelta)
        await stream.aclose()  # type: ignore[attr-defined]
        await _wait_for(lambda: mock_llm.requests("/v1/responses")[-1]["outcome"]["disconnected"])


async def test_idle_upstream_is_provider_timeout(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, oagw={"streaming_idle_timeout_secs": 0.3}) as env:
        events, state = await collect(env, request(responses_body("a b c d [[mock:stall_after=2]]")))
    *deltas, terminal = events
    assert [type(e) for e in deltas] == [TextDelta, TextDelta]
    assert isinstance(terminal, Failed)
    assert terminal.code == "provider_timeout"
    assert not state.nothing_generated  # forwarded: the provider may have generated more


async def test_no_headers_in_time_is_provider_timeout(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm, oagw={"proxy_timeout_secs": 0.3}) as env:
        events, state = await collect(env, request(responses_body("x [[mock:hang]]")))
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].code == "provider_timeout"
    assert state.dispatched
    assert not state.nothing_generated


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_provider_is_provider_error_with_nothing_generated(mock_llm: MockLlmServer) -> None:
    port = _closed_port()
    providers = {"down": provider_entry(port, upstream_alias="down-llm")}
    oagw = {"private_network_allowlist": [f"127.0.0.1:{port}"]}
    async with provider_env(mock_llm, providers, oagw=oagw) as env:
        events, state = await collect(env, request(responses_body("x"), provider_id="down"))
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].code == "provider_error"
    assert state.dispatched
    assert state.nothing_generated


async def test_unknown_provider_fails_before_dispatch_without_naming_it(mock_llm: MockLlmServer) -> None:
    async with provider_env(mock_llm) as env:
        events, state = await collect(env, request(responses_body("x"), provider_id="nope-secret-name"))
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].code == "provider_error"
    assert "nope-secret-name" not in events[0].message
    assert not state.dispatched
