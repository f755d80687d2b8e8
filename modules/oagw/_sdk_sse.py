"""Server-sent events (G-8): an incremental, pure parser and helpers over ``ProxyResponse``.

The parser follows the WHATWG event-stream rules: it decodes UTF-8 incrementally (a character split across chunks
survives, invalid bytes raise), drops one leading BOM, treats CR, LF and CRLF alike, and flushes a partial event at
EOF. It splits lines itself, so no transport line-length limit applies; an event over 8 MiB raises instead.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Any, TypeVar, overload

import msgspec

from ._sdk_errors import ProtocolError
from ._sdk_proxy import Headers, ProxyResponse

MAX_EVENT_SIZE = 8 * 1024 * 1024
_EOL = re.compile(r"[\r\n]")
T = TypeVar("T")


class ServerEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One dispatched event. ``id`` is the last event id seen so far (it persists across events, as in browsers);
    ``retry`` is set only on the event whose block carried a valid ``retry`` field."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    @property
    def is_done(self) -> bool:
        """The OpenAI-style end marker ``data: [DONE]``."""
        return self.data.strip() == "[DONE]"

    @overload
    def json(self, type: None = None) -> Any: ...
    @overload
    def json(self, type: type[T]) -> T: ...

    def json(self, type: Any = None) -> Any:
        """Decode ``data`` as JSON, optionally into a msgspec type; bad JSON → ``ProtocolError``."""
        try:
            if type is None:
                return msgspec.json.decode(self.data)
            return msgspec.json.decode(self.data, type=type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProtocolError(f"SSE event data is not the expected JSON: {exc}") from None

    def __repr__(self) -> str:
        return f"ServerEvent(event={self.event!r}, id={self.id!r}, retry={self.retry}, data_len={len(self.data)})"


class SseParser:
    """``feed(bytes) -> list[ServerEvent]`` as bytes arrive; ``close() -> list[ServerEvent]`` at EOF."""

    def __init__(self, *, max_event_size: int = MAX_EVENT_SIZE) -> None:
        self._max = max_event_size
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._bom_checked = False
        self._pending_cr = False
        self._line: list[str] = []
        self._line_len = 0
        self._data: list[str] = []
        self._data_len = 0
        self._event: str | None = None
        self._event_retry: int | None = None
        self._closed = False
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        if self._closed:
            raise RuntimeError("SseParser is closed")
        try:
            text = self._decoder.decode(bytes(chunk))
        except UnicodeDecodeError:
            raise ProtocolError("SSE stream is not valid UTF-8") from None
        return self._process(text)

    def close(self) -> list[ServerEvent]:
        """Flush: a partial line is processed and a pending event dispatched (G-8.2)."""
        if self._closed:
            return []
        try:
            text = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ProtocolError("SSE stream ends inside a UTF-8 character") from None
        events = self._process(text)
        self._closed = True
        if self._line:
            line = "".join(self._line)
            self._line, self._line_len = [], 0
            self._handle_line(line, events)
        self._dispatch(events)
        return events

    def _process(self, text: str) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        if not text:
            return events
        if not self._bom_checked:
            self._bom_checked = True
            if text[0] == "\ufeff":
                text = text[1:]
        pos = 0
        if self._pending_cr:
            self._pending_cr = False
            if text.startswith("\n"):
                pos = 1
        end = len(text)
        while pos < end:
            match = _EOL.search(text, pos)
            if match is None:
                self._line.append(text[pos:])
                self._line_len += end - pos
                self._check_size()
                break
            piece = text[pos : match.start()]
            if self._line:
                self._line.append(piece)
                line = "".join(self._line)
                self._line, self._line_len = [], 0
            else:
                line = piece
            if len(line) + self._data_len > self._max:
                raise ProtocolError(f"SSE event exceeds {self._max} bytes")
            self._handle_line(line, events)
            pos = match.end()
            if match.group() == "\r":
                if pos == end:
                    self._pending_cr = True
                elif text[pos] == "\n":
                    pos += 1
        return events

    def _check_size(self) -> None:
        if self._line_len + self._data_len > self._max:
            raise ProtocolError(f"SSE event exceeds {self._max} bytes")

    def _handle_line(self, line: str, events: list[ServerEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_len += len(value) + 1
            self._check_size()
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value and value.isascii() and value.isdigit():
            self._event_retry = self.retry = int(value)

    def _dispatch(self, events: list[ServerEvent]) -> None:
        if self._data or self._event:
            events.append(
                ServerEvent(
                    event=self._event or "message",
                    data="\n".join(self._data),
                    id=self.last_event_id,
                    retry=self._event_retry,
                )
            )
        self._data, self._data_len = [], 0
        self._event = None
        self._event_retry = None


async def iter_events(resp: ProxyResponse) -> AsyncGenerator[ServerEvent, None]:
    """Parse the response body as SSE; the response is released when iteration ends or is abandoned."""
    parser = SseParser()
    try:
        async for chunk in resp.body.stream():
            for event in parser.feed(chunk):
                yield event
        for event in parser.close():
            yield event
    finally:
        await resp.aclose()


class SseStream:
    """An event stream with the upstream's status and headers kept (G-8.3); iterate it for events."""

    def __init__(self, response: ProxyResponse) -> None:
        self.response = response
        self.status = response.status
        self.headers: Headers = response.headers
        self.events: AsyncGenerator[ServerEvent, None] = iter_events(response)

    def __aiter__(self) -> AsyncIterator[ServerEvent]:
        return self.events

    async def aclose(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> SseStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class NotSse:
    """A response that is not ``text/event-stream`` (typically a provider's JSON error): read it normally."""

    def __init__(self, response: ProxyResponse) -> None:
        self.response = response
        self.status = response.status
        self.headers: Headers = response.headers

    async def read(self, limit: int | None = None) -> bytes:
        return await self.response.read(limit)

    async def aclose(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> NotSse:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def from_response(resp: ProxyResponse) -> SseStream | NotSse:
    """``SseStream`` when ``Content-Type`` starts with ``text/event-stream`` (case-insensitive), else ``NotSse``."""
    if resp.content_type.strip().lower().startswith("text/event-stream"):
        return SseStream(resp)
    return NotSse(resp)
