"""Disconnects (M-8.3), hang and stall (M-4.2), and lifecycle."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest

from fabrikit.modules.mock_llm import MockLlmConfig, MockLlmServer, PortInUseError

from .sse import read_lines_into, responses_body

LOREM = 1000
# created + in_progress + item added + part added + deltas + text done + part done + item done + completed
PLANNED_EVENTS = LOREM + 8


async def _until(condition: Callable[[], Any], what: str) -> Any:
    """Wait for the server to notice; bounded so a broken server fails the test instead of hanging it."""
    for _ in range(500):
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_disconnect_mid_stream_is_recorded(mock_llm: MockLlmServer) -> None:
    body = responses_body(f"[[mock:lorem={LOREM},latency=5]]")
    async with aiohttp.ClientSession() as session:
        response = await session.post(mock_llm.base_url + "/v1/responses", json=body)
        seen = 0
        async for line in response.content:
            seen += line.startswith(b"event: response.output_text.delta")
            if seen == 5:
                break
        response.close()  # drops the connection mid-stream
    record = await _until(
        lambda: mock_llm.requests()[-1]["outcome"]["disconnected"] and mock_llm.requests()[-1], "disconnect"
    )
    outcome = record["outcome"]
    assert outcome["terminal"] is None
    assert 5 <= outcome["events_sent"] < PLANNED_EVENTS
    sent = outcome["events_sent"]
    await asyncio.sleep(0.05)
    assert mock_llm.requests()[-1]["outcome"]["events_sent"] == sent  # generation stopped
    stats = mock_llm.stats()
    assert stats["disconnects"] == 1
    assert stats["open_streams"] == 0


async def test_hang_sends_nothing_until_client_leaves(mock_llm: MockLlmServer) -> None:
    async with httpx.AsyncClient(base_url=mock_llm.base_url, timeout=httpx.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/v1/responses", json=responses_body("[[mock:hang]]"))
    record = await _until(
        lambda: mock_llm.requests()[-1]["outcome"]["disconnected"] and mock_llm.requests()[-1], "hang"
    )
    assert record["outcome"]["status"] is None
    assert record["outcome"]["events_sent"] == 0


async def test_hang_is_bounded(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with (
        make_mock(hang_max_secs=0.2) as mock,
        httpx.AsyncClient(base_url=mock.base_url, timeout=10) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(
                "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "x [[mock:hang]]"}]},
            )


async def test_stall_keeps_connection_silent(mock_llm: MockLlmServer) -> None:
    body = responses_body("[[mock:lorem=10,stall_after=3]]")
    lines: list[str] = []
    async with httpx.AsyncClient(base_url=mock_llm.base_url, timeout=httpx.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await read_lines_into(http, "/v1/responses", body, lines)
    names = [line[7:] for line in lines if line.startswith("event: ")]
    assert names.count("response.output_text.delta") == 3
    assert names[-1] == "response.output_text.delta"
    record = await _until(
        lambda: mock_llm.requests()[-1]["outcome"]["disconnected"] and mock_llm.requests()[-1], "stall"
    )
    assert record["outcome"]["events_sent"] == len(names)


async def test_stall_is_bounded(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with (
        make_mock(hang_max_secs=0.2) as mock,
        httpx.AsyncClient(base_url=mock.base_url, timeout=10) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await read_lines_into(http, "/v1/responses", responses_body("[[mock:stall_after=1]]"), [])
        assert mock.requests()[-1]["outcome"]["terminal"] is None


async def test_stop_ends_open_streams(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with (
        make_mock() as mock,
        httpx.AsyncClient(base_url=mock.base_url, timeout=10) as http,
        http.stream("POST", "/v1/responses", json=responses_body("[[mock:stall_after=1]]")) as response,
    ):
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith("event: response.created")
        await mock.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            await _drain(lines)


async def _drain(lines: AsyncIterator[str]) -> None:
    async for _ in lines:
        pass


async def test_busy_port_names_the_key() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=r"modules\.mock-llm\.config\.port"):
            await MockLlmServer(MockLlmConfig(port=port)).start()


async def test_explicit_start_stop_and_base_url() -> None:
    server = MockLlmServer(MockLlmConfig(port=0))
    await server.start()
    try:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.base_url + "/_mock/health")).status_code == 200
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(server.base_url + "/_mock/health")
