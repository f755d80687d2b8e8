"""Silence and slowness over real sockets (C-9.4, CI-4.3, CI-4.5, CI-13.4; C-22 T05-11, T05-15, T21-04, T17-03).

The timers have configured minimums (ping 5 s, keep-alive 10 s, relay stall 10 s), so the three relay scenarios
run concurrently on one server, each in its own chat; lower bounds are asserted (the spec says "after N seconds of
silence"), upper bounds only generously.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import uuid
from typing import Any

import pytest
import pytest_asyncio

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream
from fabrikit.plugins.static_model_policy.catalog import DEFAULT_CATALOG

from .support import (
    AUTH,
    MINI,
    Server,
    checklist_server,
    credits,
    estimate,
    messages,
    stream_path,
    turn_row,
    wait_state,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]
# A reply far larger than the socket buffers on the path (~2 MB on loopback) needs more than the default 32 768
# output tokens: the standard model and the module cap allow 500 000 here.
BIG_OUT = 500_000
RELAY = {
    "streaming": {
        "sse_ping_interval_seconds": 5,
        "sse_keepalive_seconds": 10,
        "relay_stall_timeout_seconds": 10,
        "max_output_tokens": BIG_OUT,
    }
}


def _big_output_catalog() -> list[dict[str, Any]]:
    catalog = copy.deepcopy(DEFAULT_CATALOG)
    for entry in catalog:
        if entry["id"] == "gpt-4.1-mini":
            entry["max_output_tokens"] = BIG_OUT
    return catalog


async def _blocks(
    s: Server, chat_id: str, content: str, *, stop_after: str | None = None
) -> list[tuple[float, str]]:
    """The raw SSE blocks (events and comments) with their arrival time since the request; with ``stop_after``
    the client leaves once a block starting with it arrived."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    out: list[tuple[float, str]] = []
    buffer = ""
    async with s.http.stream("POST", stream_path(chat_id), json={"content": content}, headers=AUTH) as resp:
        assert resp.status_code == 200
        async for chunk in resp.aiter_text():
            buffer += chunk.replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                out.append((loop.time() - start, block))
                if stop_after is not None and block.startswith(stop_after):
                    return out
    return out


def _names(blocks: list[tuple[float, str]]) -> list[str]:
    return [b.split("\n")[0] for _, b in blocks]


async def _pings_until_first_delta(s: Server) -> None:
    """T05-11: ``ping {}`` every 5 s while the provider is silent, only before the first delta."""
    chat = await s.chat()
    blocks = await _blocks(s, chat, "wait for it [[mock:lorem=2,ttft=10300]]")
    names = _names(blocks)
    assert names == [
        "event: stream_started",
        "event: ping",
        "event: ping",
        "event: delta",
        "event: delta",
        "event: done",
    ], names
    pings = [(t, b) for t, b in blocks if b.startswith("event: ping")]
    assert all(b == "event: ping\ndata: {}" for _, b in pings), pings
    assert pings[0][0] >= 4.9, pings  # the first after one interval of silence…
    assert pings[1][0] - pings[0][0] >= 4.9, pings  # …then one per interval


async def _keepalive_after_content(s: Server) -> None:
    """T05-15: once content flowed, silence produces no ping but a ``: keep-alive`` comment after 10 s."""
    chat = await s.chat()
    blocks = await _blocks(s, chat, "then silence [[mock:lorem=5,stall_after=1]]", stop_after=": keep-alive")
    names = _names(blocks)
    assert names == ["event: stream_started", "event: delta", ": keep-alive"], names
    assert blocks[-1][1] == ": keep-alive"
    silence = blocks[-1][0] - blocks[-2][0]
    assert 9.9 <= silence < 20, silence


async def _stalled_reader_is_cancelled(s: Server) -> tuple[bool, bytes]:
    """T21-04: a client that stops reading blocks the producer; after ``relay_stall_timeout_seconds`` (10 s) the
    turn is cancelled with trigger ``stall``: partial text kept, upstream closed, reserve settled.

    Then the client reads again; returns (the server ended the stream, the last bytes it sent)."""
    chat = await s.chat()
    marker = uuid.uuid4().hex
    request_id = str(uuid.uuid4())
    body = json.dumps({"content": f"{marker} [[mock:lorem=400000]]", "request_id": request_id}).encode()
    port = int(s.harness.base_url.rsplit(":", 1)[1])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server blocks soon
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    try:
        writer.write(
            (
                f"POST {stream_path(chat)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH['Authorization']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        first = await reader.readuntil(b"event: delta")
        assert b"event: stream_started" in first
        # From here on nothing is read: the reader's buffer, the socket buffers and the 32-item channel fill up.
        stopped = loop.time()
        await asyncio.sleep(4)
        assert (await turn_row(s, request_id))["state"] == "running", "cancelled before the stall timeout"
        status = await wait_state(s, chat, request_id, timeout=25)
        assert status["state"] == "cancelled", status
        assert loop.time() - stopped >= 9.9
        listed = await messages(s, chat)
        assert [m["role"] for m in listed] == ["user", "assistant"]
        assert 0 < len(listed[1]["content"].split()) < 400000  # the partial answer is kept
        record = next(r for r in s.provider_calls() if marker in str(r.get("json")))
        for _ in range(100):
            if record["outcome"]["disconnected"]:
                break
            await asyncio.sleep(0.05)
            record = next(r for r in s.provider_calls() if marker in str(r.get("json")))
        assert record["outcome"]["disconnected"] is True  # the provider call was aborted
        row = await turn_row(s, request_id)
        assert row["settlement_method"] in ("actual", "estimated")  # dispatched: never a free cancel (CI-6.1)
        metrics = (await s.http.get("/metrics")).text
        assert re.search(r'^mini_chat_streams_aborted_total\{trigger="stall"\} [1-9]', metrics, re.M), [
            line for line in metrics.splitlines() if "streams_aborted" in line
        ]
        tail = b""
        while True:  # a slow client, not a dead one: it reads on until the server closes or falls silent
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 4)
            except TimeoutError:
                return False, tail
            if not chunk:
                return True, tail
            tail = (tail + chunk)[-65536:]
            if tail.endswith(b"\r\n0\r\n\r\n"):  # the chunked body ended: the stream is over (keep-alive)
                return True, tail
    finally:
        writer.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def relay() -> dict[str, Any]:
    """The three relay scenarios, run concurrently on one SQLite server (the timers do not depend on the engine);
    each test below reports one of them."""
    async with checklist_server(mini_chat=RELAY, policy={"model_catalog": _big_output_catalog()}) as s:
        results = await asyncio.gather(
            _pings_until_first_delta(s),
            _keepalive_after_content(s),
            _stalled_reader_is_cancelled(s),
            return_exceptions=True,
        )
    return dict(zip(("ping", "keepalive", "stall"), results, strict=True))


def _outcome(relay: dict[str, Any], name: str) -> Any:
    result = relay[name]
    if isinstance(result, BaseException):
        raise result
    return result


async def test_ping_before_the_first_delta(relay: dict[str, Any]) -> None:
    _outcome(relay, "ping")


async def test_keepalive_comment_after_silence(relay: dict[str, Any]) -> None:
    _outcome(relay, "keepalive")


async def test_stalled_reader_is_cancelled_after_the_stall_timeout(relay: dict[str, Any]) -> None:
    _outcome(relay, "stall")


async def test_slow_reader_gets_stream_interrupted_after_a_stall_cancel(relay: dict[str, Any]) -> None:
    """C-9.5 / CI-4.3: the stalled turn ended without a terminal, so a client that reads on must see
    ``error {code: "stream_interrupted"}`` and then the end of the stream."""
    closed, tail = _outcome(relay, "stall")
    assert b"event: error" in tail, tail[-300:]
    assert b'"code":"stream_interrupted"' in tail, tail[-300:]
    assert closed


async def test_provider_timeouts(database: dict[str, Any] | None) -> None:
    """T17-03: an upstream silent mid-stream beyond oagw's streaming idle timeout, or one that never answers
    within its proxy timeout, ends the turn ``failed`` / ``provider_timeout`` with an SSE ``error``; the request
    was forwarded, so settlement is the estimate (CI-6), and the upstream connection is closed."""
    oagw = {"streaming_idle_timeout_secs": 1, "proxy_timeout_secs": 1}
    async with checklist_server(database, oagw=oagw) as s:
        for directive, deltas in (("lorem=5,stall_after=2", 2), ("hang", 0)):
            chat = await s.chat()
            marker = uuid.uuid4().hex
            content = f"{marker} [[mock:{directive}]]"
            stream = await s.stream(chat, content)
            assert is_valid_stream(stream.names), stream.names
            assert len(stream.data("delta")) == deltas, (directive, stream.names)
            error = stream.one("error")
            assert set(error) == {"code", "message"}
            assert error["code"] == "provider_timeout", (directive, error)
            request_id = stream.one("stream_started")["request_id"]
            status = await wait_state(s, chat, request_id)
            assert (status["state"], status["error_code"]) == ("error", "provider_timeout")
            row = await turn_row(s, request_id)
            assert row["settlement_method"] == "estimated", directive
            assert int(row["committed_credits_micro"]) == credits(estimate(content), 50, MINI)
            assert [m["role"] for m in await messages(s, chat)] == ["user"]  # failed: no assistant message
            for _ in range(100):
                (record,) = [r for r in s.provider_calls() if marker in str(r.get("json"))]
                if record["outcome"]["disconnected"]:
                    break
                await asyncio.sleep(0.05)
            assert record["outcome"]["disconnected"] is True, directive
