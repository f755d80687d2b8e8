"""Body, ProxyRequest and ProxyResponse (G-7.2, G-7.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fabrikit.modules.oagw.sdk import Body, PayloadTooLargeError, ProxyRequest, ProxyResponse, ValidationError


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(body: Body, limit: int | None = None) -> list[bytes]:
    return [c async for c in body.stream(limit)]


async def test_empty_body() -> None:
    for body in (Body(), Body.empty(), Body(b""), Body.of(None)):
        assert body.kind == "empty"
        assert body.size == 0
        assert await body.read() == b""
        assert await collect(body) == []


async def test_bytes_body_read_and_stream() -> None:
    body = Body(b"hello")
    assert (body.kind, body.size) == ("bytes", 5)
    assert await body.read() == b"hello"
    assert await collect(body) == [b"hello"]


async def test_stream_body_read_buffers_and_becomes_bytes() -> None:
    body = Body(agen(b"he", b"", b"llo"))
    assert body.kind == "stream"
    assert body.size is None
    assert await body.read() == b"hello"
    assert (body.kind, body.size) == ("bytes", 5)
    assert await collect(body) == [b"hello"]


async def test_stream_skips_empty_chunks_and_is_single_use() -> None:
    body = Body(agen(b"a", b"", b"b"))
    assert await collect(body) == [b"a", b"b"]
    with pytest.raises(RuntimeError):
        await collect(body)


async def test_limits() -> None:
    with pytest.raises(PayloadTooLargeError):
        await Body(b"12345").read(limit=4)
    with pytest.raises(PayloadTooLargeError):
        await Body(agen(b"123", b"45")).read(limit=4)
    with pytest.raises(PayloadTooLargeError):
        await collect(Body(agen(b"123", b"45")), limit=4)
    assert await Body(agen(b"123", b"4")).read(limit=4) == b"1234"


async def test_read_closes_source_generator_on_overflow() -> None:
    finished: list[str] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            for _ in range(10):
                yield b"xxxx"
        finally:
            finished.append("closed")

    with pytest.raises(PayloadTooLargeError):
        await Body(source()).read(limit=5)
    assert finished == ["closed"]


def test_repr_shows_kind_and_size_never_content() -> None:
    assert repr(Body(b"sk-secret")) == "Body(kind=bytes, size=9)"
    assert "sk-secret" not in repr(ProxyRequest(method="post", alias="a", body=Body(b"sk-secret")))


def test_body_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        Body("text")  # type: ignore[arg-type]


def test_proxy_request_normalises() -> None:
    req = ProxyRequest(method="post", alias="api.example.com", path="v1//chat/./x/../completions")
    assert req.method == "POST"
    assert req.path == "/v1/chat/completions"
    assert isinstance(req.body, Body)
    with pytest.raises(ValidationError):
        ProxyRequest(method="GET", alias="")


async def test_proxy_response_context_manager_and_read() -> None:
    closes: list[int] = []

    async def on_close() -> None:
        closes.append(1)

    resp = ProxyResponse(
        500, [("Content-Type", "application/json")], agen(b'{"e":', b"1}"), on_close=on_close
    )
    assert resp.error_source == "upstream"
    assert resp.header("content-type") == "application/json"
    async with resp:
        assert await resp.read() == b'{"e":1}'
    await resp.aclose()
    assert closes == [1]


async def test_proxy_response_exit_releases_unread_stream() -> None:
    released: list[str] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            released.append("body")

    async def on_close() -> None:
        released.append("conn")

    async with ProxyResponse(200, [], source(), on_close=on_close) as resp:
        async for chunk in resp.body.stream():
            assert chunk == b"a"
            break
    assert released[-1] == "conn"
    assert "body" in released
