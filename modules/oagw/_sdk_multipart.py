"""multipart/form-data builder producing a ``ProxyRequest`` (G-9). The gateway itself never parses multipart.

A form whose parts are all bytes is buffered (the engine sends it with ``Content-Length``); a form with a stream
part becomes a streamed body (sent chunked). Both produce byte-identical payloads for the same parts.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable

import msgspec

from ._sdk_body import Body
from ._sdk_errors import ValidationError
from ._sdk_proxy import ProxyRequest

_BOUNDARY_RE = re.compile(r"^[A-Za-z0-9'()+_,\-./:=? ]{1,70}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")


def _escape(value: str) -> str:
    return value.replace("\r", "").replace("\n", "").replace('"', '\\"')


class _Part(msgspec.Struct):
    head: bytes
    data: bytes | None = None
    stream: AsyncIterable[bytes] | None = None


class Multipart:
    def __init__(self, boundary: str | None = None) -> None:
        if boundary is None:
            boundary = uuid.uuid4().hex
        elif not _BOUNDARY_RE.match(boundary) or boundary.endswith(" "):
            raise ValidationError(
                "multipart boundary must be 1-70 characters of [A-Za-z0-9'()+_,-./:=? ] without a trailing space"
            )
        self.boundary = boundary
        self._parts: list[_Part] = []

    def __repr__(self) -> str:
        return f"Multipart(boundary={self.boundary!r}, parts={len(self._parts)})"

    @property
    def content_type(self) -> str:
        value = self.boundary if _TOKEN_RE.match(self.boundary) else f'"{self.boundary}"'
        return f"multipart/form-data; boundary={value}"

    @property
    def is_streamed(self) -> bool:
        return any(part.stream is not None for part in self._parts)

    def _head(self, name: str, filename: str | None, content_type: str | None) -> builtins.bytes:
        disposition = f'form-data; name="{_escape(name)}"'
        if filename is not None:
            disposition += f'; filename="{_escape(filename)}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type is not None:
            lines.append(f"Content-Type: {_escape(content_type)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def text(self, name: str, value: str) -> Multipart:
        self._parts.append(_Part(self._head(name, None, None), data=value.encode("utf-8")))
        return self

    def bytes(
        self, name: str, data: builtins.bytes, *, filename: str | None = None, content_type: str | None = None
    ) -> Multipart:
        if filename is not None and content_type is None:
            content_type = "application/octet-stream"
        self._parts.append(_Part(self._head(name, filename, content_type), data=bytes(data)))
        return self

    def stream(
        self,
        name: str,
        source: AsyncIterable[builtins.bytes],
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> Multipart:
        if filename is not None and content_type is None:
            content_type = "application/octet-stream"
        self._parts.append(_Part(self._head(name, filename, content_type), stream=source))
        return self

    def _closing(self) -> builtins.bytes:
        return f"--{self.boundary}--\r\n".encode()

    def to_bytes(self) -> builtins.bytes:
        """The whole payload; only for forms without stream parts."""
        if self.is_streamed:
            raise RuntimeError("a form with a stream part cannot be buffered; use into_request")
        out = bytearray()
        for part in self._parts:
            out += part.head
            out += part.data or b""
            out += b"\r\n"
        out += self._closing()
        return bytes(out)

    async def iter_bytes(self) -> AsyncIterator[builtins.bytes]:
        for part in self._parts:
            yield part.head
            if part.stream is not None:
                async for chunk in part.stream:
                    if chunk:
                        yield bytes(chunk)
            elif part.data:
                yield part.data
            yield b"\r\n"
        yield self._closing()

    def into_request(
        self, method: str, alias: str, path: str, headers: Iterable[tuple[str, str]] = ()
    ) -> ProxyRequest:
        """A request carrying the form; ``Content-Type`` replaced by ``multipart/form-data; boundary=…``."""
        kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
        kept.append(("content-type", self.content_type))
        body = Body(self.iter_bytes()) if self.is_streamed else Body(self.to_bytes())
        return ProxyRequest(method=method, alias=alias, path=path, headers=kept, body=body)
