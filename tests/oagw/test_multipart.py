"""Multipart helper (G-9)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fabrikit.modules.oagw.sdk import Multipart, ValidationError


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def form(boundary: str = "b0undary") -> Multipart:
    return Multipart(boundary).text("purpose", "fine-tune")


async def test_buffered_and_streamed_bodies_are_byte_identical() -> None:
    data = b"line1\nline2\r\n--not-a-boundary\x00\xff"
    buffered = form().bytes("file", data, filename="a.jsonl", content_type="application/jsonl")
    streamed = form().stream(
        "file", agen(data[:5], b"", data[5:]), filename="a.jsonl", content_type="application/jsonl"
    )
    breq = buffered.into_request(
        "post", "api.openai.com", "/v1/files", [("Content-Type", "text/plain"), ("a", "1")]
    )
    sreq = streamed.into_request("POST", "api.openai.com", "/v1/files")
    assert breq.body.kind == "bytes"
    assert sreq.body.kind == "stream"
    assert breq.header("content-type") == "multipart/form-data; boundary=b0undary"
    assert [k for k, _ in breq.headers].count("content-type") == 1
    assert ("a", "1") in breq.headers
    assert await sreq.body.read() == await breq.body.read()


async def test_layout() -> None:
    payload = (
        await form("xyz").bytes("f", b"DATA", filename="x.bin").into_request("POST", "a", "/u").body.read()
    )
    assert payload == (
        b'--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nDATA\r\n--xyz--\r\n"
    )


async def test_names_escaped() -> None:
    payload = Multipart("b").text('na"me\r\n', "v").bytes("f", b"", filename='a"\nb').to_bytes()
    assert b'name="na\\"me"' in payload
    assert b'filename="a\\"b"' in payload


def test_boundary_rules() -> None:
    assert len(Multipart().boundary) == 32
    assert Multipart("a b").content_type == 'multipart/form-data; boundary="a b"'
    for bad in ("", "x" * 71, "trailing ", "bad;char", "é"):
        with pytest.raises(ValidationError):
            Multipart(bad)
    Multipart("'()+_,-./:=? ok")
