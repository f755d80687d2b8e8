"""``UploadSource`` over the raw request stream: multipart parsed as it arrives (CI-12.1), never buffered whole by
Litestar's form parsing. Parts before ``file`` are skipped; the file is read only when the service asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from multipart import MultipartSegment, ParserError, PushMultipartParser, parse_options_header

from ..domain.errors import FileTooLarge, ValidationFailed


class MultipartUpload:
    def __init__(
        self, content_type: str | None, content_length: int | None, chunks: AsyncIterator[bytes]
    ) -> None:
        self.content_length = content_length
        self._content_type = content_type
        self._parser: PushMultipartParser | None = (
            None  # made by file_part: the service checks the chat first
        )
        self._chunks = chunks
        self._events: Iterator[Any] = iter(())
        self._ended = False

    def _start(self) -> PushMultipartParser:
        media, options = parse_options_header(self._content_type or "")
        if media != "multipart/form-data":
            raise ValidationFailed("The body must be multipart/form-data with a 'file' part.")
        boundary = options.get("boundary")
        if not boundary:
            raise ValidationFailed("The multipart Content-Type has no boundary.")
        return PushMultipartParser(boundary, max_segment_count=16)

    async def _next(self) -> Any:
        """The parser's next event, reading more of the body when it needs it."""
        while True:
            try:
                for event in self._events:
                    return event
                if self._ended:
                    raise ValidationFailed("The multipart body has no 'file' part.")
                chunk = await anext(self._chunks, b"")
                if not chunk:
                    self._ended = True
                assert self._parser is not None, "file_part() comes first"
                self._events = self._parser.parse(chunk)
            except ParserError as exc:
                raise ValidationFailed(f"The multipart body is malformed: {exc}") from None

    async def file_part(self) -> tuple[str | None, str | None]:
        self._parser = self._start()
        while True:
            event = await self._next()
            if isinstance(event, MultipartSegment) and event.name == "file":
                if not event.content_type:
                    raise ValidationFailed("The 'file' part has no Content-Type.")
                return event.filename, event.header("Content-Type")

    async def read_file(self, limit: int) -> bytes:
        data = bytearray()
        while True:
            event = await self._next()
            if event is None:
                return bytes(data)
            data += event
            if len(data) > limit:
                raise FileTooLarge(f"The file exceeds {limit} bytes.")


__all__ = ["MultipartUpload"]
