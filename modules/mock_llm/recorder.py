"""Request records, counters and the control script (M-8). Pure: no aiohttp."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

import msgspec

from .directives import DirectiveError, parse_directive_list


class Outcome(msgspec.Struct, kw_only=True):
    status: int | None = None
    events_sent: int = 0
    terminal: str | None = None
    disconnected: bool = False


class MultipartPart(msgspec.Struct, kw_only=True):
    name: str | None
    filename: str | None
    content_type: str | None
    size: int
    sha256: str


class Record(msgspec.Struct, kw_only=True):
    """One recorded request; ``outcome`` is filled in while and after it is answered."""

    seq: int
    received_at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    json_truncated: bool = False
    body_bytes: int = 0
    multipart: list[MultipartPart] | None = None
    directives: dict[str, Any] = msgspec.field(default_factory=dict)
    outcome: Outcome = msgspec.field(default_factory=Outcome)


class Stats(msgspec.Struct, kw_only=True):
    requests: int = 0
    open_streams: int = 0
    events_sent: int = 0
    disconnects: int = 0


class Recorder:
    def __init__(self, limit: int) -> None:
        self._records: deque[Record] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self.stats = Stats()

    def new(self, **fields: Any) -> Record:
        record = Record(seq=next(self._seq), **fields)
        self._records.append(record)
        self.stats.requests += 1
        return record

    def items(self, path_prefix: str | None = None, limit: int | None = None) -> list[Record]:
        """Oldest first; with ``limit``, the newest ``limit`` matching records."""
        found = [r for r in self._records if not path_prefix or r.path.startswith(path_prefix)]
        return found[-limit:] if limit else found

    def last(self) -> Record | None:
        return self._records[-1] if self._records else None

    def clear(self) -> None:
        self._records.clear()

    def reset(self) -> None:
        self.clear()
        open_streams = self.stats.open_streams
        self.stats = Stats(open_streams=open_streams)


class ScriptMatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    method: str | None = None
    path_prefix: str | None = None


class ScriptEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    directives: str = ""
    text: str | None = None
    match: ScriptMatch | None = None
    times: int = 1

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("times: must be >= 1")
        try:
            parse_directive_list(self.directives)
        except DirectiveError as exc:
            raise ValueError(f"directives: {exc}") from None

    def matches(self, method: str, path: str) -> bool:
        match = self.match
        if match is None:
            return True
        if match.method and match.method.upper() != method.upper():
            return False
        return not match.path_prefix or path.startswith(match.path_prefix)


class ScriptRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    items: list[ScriptEntry]


class Script:
    """FIFO of scripted entries; the first entry matching a request is used once per request."""

    def __init__(self) -> None:
        self._entries: list[list[Any]] = []  # [entry, remaining times]

    def extend(self, entries: list[ScriptEntry]) -> None:
        self._entries.extend([entry, entry.times] for entry in entries)

    def take(self, method: str, path: str) -> ScriptEntry | None:
        for index, slot in enumerate(self._entries):
            entry: ScriptEntry = slot[0]
            if entry.matches(method, path):
                slot[1] -= 1
                if slot[1] == 0:
                    del self._entries[index]
                return entry
        return None

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
