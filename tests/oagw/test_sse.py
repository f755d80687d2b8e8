"""SSE parser and helpers (G-8)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.oagw.sdk import (
    NotSse,
    ProtocolError,
    ProxyResponse,
    ServerEvent,
    SseParser,
    SseStream,
    from_response,
    iter_events,
)
from tests.strategies.oagw import chunkings, sse_streams


def parse(*chunks: bytes) -> list[ServerEvent]:
    parser = SseParser()
    events: list[ServerEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.close()


async def agen(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def test_all_fields_and_defaults() -> None:
    events = parse(b"event: delta\nid: 7\nretry: 1500\ndata: hello\n\ndata: plain\n\n")
    assert events == [
        ServerEvent(event="delta", data="hello", id="7", retry=1500),
        ServerEvent(event="message", data="plain", id="7", retry=None),
    ]


def test_data_lines_joined_and_one_space_removed() -> None:
    assert parse(b"data:a\ndata:  b\ndata\n\n") == [ServerEvent(data="a\n b\n")]


def test_crlf_and_cr_line_endings() -> None:
    assert parse(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [
        ServerEvent(data="a"),
        ServerEvent(data="b"),
        ServerEvent(data="c"),
    ]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert parse(b"data: a\r", b"\n", b"\r", b"\ndata: b\n\n") == [
        ServerEvent(data="a"),
        ServerEvent(data="b"),
    ]


def test_comments_ignored() -> None:
    assert parse(b": keep-alive\n\n:x\ndata: y\n\n") == [ServerEvent(data="y")]


def test_leading_bom_dropped_even_when_split() -> None:
    assert parse(b"\xef\xbb", b"\xbfdata: x\n\n") == [ServerEvent(data="x")]


def test_only_first_bom_dropped() -> None:
    assert parse("data: \ufeffx\n\n".encode()) == [ServerEvent(data="\ufeffx")]


def test_split_utf8_character_survives() -> None:
    payload = "data: héllo €\n\n".encode()
    cut = payload.index("€".encode()) + 1
    assert parse(payload[:cut], payload[cut:]) == [ServerEvent(data="héllo €")]


def test_invalid_utf8_raises() -> None:
    with pytest.raises(ProtocolError):
        parse(b"data: \xff\n\n")


def test_truncated_utf8_at_eof_raises() -> None:
    with pytest.raises(ProtocolError):
        parse("data: €".encode()[:-1])


def test_nul_id_ignored_and_id_persists() -> None:
    events = parse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_retry_must_be_digits() -> None:
    events = parse(b"retry: 12x\ndata: a\n\nretry: 30\ndata: b\n\n")
    assert [e.retry for e in events] == [None, 30]


def test_unknown_fields_ignored_and_empty_events_skipped() -> None:
    assert parse(b"foo: bar\n\nid: 3\n\nretry: 5\n\n\n\ndata: x\n\n") == [ServerEvent(data="x", id="3")]


def test_named_event_without_data_is_dispatched() -> None:
    assert parse(b"event: ping\n\n") == [ServerEvent(event="ping", data="")]


def test_partial_event_flushed_at_eof() -> None:
    assert parse(b"event: end\ndata: last") == [ServerEvent(event="end", data="last")]


def test_event_over_cap_raises() -> None:
    parser = SseParser(max_event_size=16)
    parser.feed(b"data: 0123456789\n")
    with pytest.raises(ProtocolError):
        parser.feed(b"data: 0123456789\n")


def test_overlong_line_without_newline_raises() -> None:
    parser = SseParser(max_event_size=10)
    with pytest.raises(ProtocolError):
        parser.feed(b"data: " + b"x" * 20)


def test_default_cap_is_8_mib() -> None:
    parser = SseParser()
    assert parser.feed(b"data: " + b"x" * (8 * 1024 * 1024 - 100) + b"\n\n")[0].data.startswith("xx")
    with pytest.raises(ProtocolError):
        parser.feed(b"data: " + b"x" * (8 * 1024 * 1024 + 1))


def test_openai_chat_stream_with_done() -> None:
    raw = (
        b'data: {"id":"c1","choices":[{"delta":{"role":"assistant"}}]}\n\n'
        b'data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    events = parse(raw)
    assert [e.is_done for e in events] == [False, False, True]
    content = [e.json()["choices"][0]["delta"].get("content") for e in events if not e.is_done]
    assert content == [None, "Hi"]


class Delta(msgspec.Struct):
    content: str


def test_typed_json_and_bad_json() -> None:
    assert ServerEvent(data='{"content": "x"}').json(Delta) == Delta("x")
    with pytest.raises(ProtocolError):
        ServerEvent(data='{"content": 1}').json(Delta)
    with pytest.raises(ProtocolError):
        ServerEvent(data="not json").json()


def test_repr_hides_data() -> None:
    assert "secret" not in repr(ServerEvent(data="secret"))


@given(st.data())
def test_any_chunking_yields_the_same_events(data: st.DataObject) -> None:
    raw, expected = data.draw(sse_streams())
    chunks = data.draw(chunkings(raw))
    assert parse(*chunks) == expected
    assert parse(raw) == expected


@given(st.binary(max_size=200), st.data())
def test_chunking_never_changes_the_outcome_of_arbitrary_bytes(raw: bytes, data: st.DataObject) -> None:
    def outcome(chunks: list[bytes]) -> object:
        try:
            return parse(*chunks)
        except ProtocolError:
            return "error"

    assert outcome(data.draw(chunkings(raw))) == outcome([raw])


async def test_iter_events_over_response_closes_it() -> None:
    closed: list[bool] = []

    async def on_close() -> None:
        closed.append(True)

    resp = ProxyResponse(200, [], agen([b"data: a\n", b"\ndata: b"]), on_close=on_close)
    events = [e async for e in iter_events(resp)]
    assert [e.data for e in events] == ["a", "b"]
    assert closed == [True]


async def test_from_response_keeps_status_headers_and_dispatches_by_name() -> None:
    headers = [("Content-Type", "text/event-stream; charset=utf-8"), ("x-request-id", "r1")]
    resp = ProxyResponse(200, headers, agen([b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"]))
    stream = from_response(resp)
    assert isinstance(stream, SseStream)
    assert stream.status == 200
    assert ("x-request-id", "r1") in stream.headers
    async with stream:
        by_name = {e.event: e.data async for e in stream}
    assert by_name == {"a": "1", "b": "2"}
    assert resp.closed


async def test_from_response_non_sse_fallback_reads_error_body() -> None:
    resp = ProxyResponse(429, [("content-type", "application/json")], agen([b'{"error":', b'"slow down"}']))
    result = from_response(resp)
    assert isinstance(result, NotSse)
    assert result.status == 429
    assert await result.read() == b'{"error":"slow down"}'
    assert resp.closed
