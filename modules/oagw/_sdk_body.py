"""Request and response bodies (G-7.4): empty, bytes, or a single-use async iterator of bytes."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator
from typing import Literal

from ._sdk_errors import PayloadTooLargeError

BodyKind = Literal["empty", "bytes", "stream"]


class Body:
    """Never shows its content: ``repr`` gives the kind and the size (``None`` for a stream of unknown size)."""

    __slots__ = ("_data", "_iterable", "_size", "_started")

    def __init__(self, content: bytes | bytearray | memoryview | AsyncIterable[bytes] | None = None) -> None:
        self._data: bytes | None = None
        self._iterable: AsyncIterable[bytes] | None = None
        self._size: int | None = 0
        self._started = False
        if content is None:
            return
        if isinstance(content, bytes | bytearray | memoryview):
            data = bytes(content)
            if data:
                self._data = data
                self._size = len(data)
            return
        if isinstance(content, AsyncIterable):
            self._iterable = content
            self._size = None
            return
        raise TypeError(f"Body takes bytes or an async iterable of bytes, not {type(content).__name__}")

    @classmethod
    def empty(cls) -> Body:
        return cls()

    @classmethod
    def of(cls, content: Body | bytes | bytearray | memoryview | AsyncIterable[bytes] | None) -> Body:
        """Coerce anything a caller may pass as a body."""
        return content if isinstance(content, Body) else cls(content)

    @property
    def kind(self) -> BodyKind:
        if self._iterable is not None:
            return "stream"
        return "bytes" if self._data is not None else "empty"

    @property
    def size(self) -> int | None:
        """Byte length when known without reading (empty, bytes); ``None`` for a stream."""
        return self._size

    @property
    def is_empty(self) -> bool:
        return self.kind == "empty"

    @property
    def is_stream(self) -> bool:
        return self.kind == "stream"

    def __repr__(self) -> str:
        return f"Body(kind={self.kind}, size={self._size})"

    def _take_stream(self) -> AsyncIterable[bytes]:
        if self._started or self._iterable is None:
            raise RuntimeError("a streamed body can be consumed only once")
        self._started = True
        return self._iterable

    async def read(self, limit: int | None = None) -> bytes:
        """Buffer the whole body; over ``limit`` bytes → ``PayloadTooLargeError``. A read stream becomes bytes."""
        if self._iterable is None:
            data = self._data or b""
            if limit is not None and len(data) > limit:
                raise PayloadTooLargeError(f"body exceeds {limit} bytes")
            return data
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in self._take_stream():
                total += len(chunk)
                if limit is not None and total > limit:
                    raise PayloadTooLargeError(f"body exceeds {limit} bytes")
                chunks.append(bytes(chunk))
        finally:
            await self.aclose()
        data = b"".join(chunks)
        self._iterable = None
        self._data = data or None
        self._size = len(data)
        self._started = False
        return data

    async def stream(self, limit: int | None = None) -> AsyncIterator[bytes]:
        """Yield the chunks, skipping empty ones; over ``limit`` bytes → ``PayloadTooLargeError``."""
        if self._iterable is None:
            data = self._data or b""
            if limit is not None and len(data) > limit:
                raise PayloadTooLargeError(f"body exceeds {limit} bytes")
            if data:
                yield data
            return
        total = 0
        try:
            async for chunk in self._take_stream():
                if not chunk:
                    continue
                total += len(chunk)
                if limit is not None and total > limit:
                    raise PayloadTooLargeError(f"body exceeds {limit} bytes")
                yield bytes(chunk)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying async generator, if any (releases what it holds)."""
        closer = getattr(self._iterable, "aclose", None)
        if closer is not None:
            result = closer()
            if inspect.isawaitable(result):
                await result
