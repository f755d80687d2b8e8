"""Per-request ids held in contextvars so errors and logs carry them (K-11.4)."""

from __future__ import annotations

import base64
import re
import secrets
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("fabrikit_request_id", default="")
_trace_id: ContextVar[str] = ContextVar("fabrikit_trace_id", default="")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


_ID_CHARS = 21
_IDS_PER_BATCH = 128
_id_batch: list[str] = []


def _refill_ids() -> None:
    # 126 random bits per id, as one urlsafe-base64 block cut in 21-character pieces (no padding: 3 bytes per
    # 4 characters); one urandom syscall per batch instead of one per request.
    text = base64.urlsafe_b64encode(secrets.token_bytes(_ID_CHARS * _IDS_PER_BATCH * 3 // 4)).decode("ascii")
    _id_batch.extend(text[i : i + _ID_CHARS] for i in range(0, len(text), _ID_CHARS))


def new_request_id() -> str:
    """A 21-character URL-safe id (nanoid-sized, 126 random bits), never handed out twice from a batch."""
    while True:
        try:
            return _id_batch.pop()  # atomic: threads never share an id
        except IndexError:
            _refill_ids()


def accept_request_id(value: str | None) -> str:
    return value if value and _REQUEST_ID_RE.match(value) else new_request_id()


def trace_id_from_traceparent(value: str | None) -> str | None:
    if not value:
        return None
    m = _TRACEPARENT_RE.match(value.strip().lower())
    if not m or m.group(1) == "0" * 32:
        return None
    return m.group(1)


def bind_request(request_id: str, traceparent: str | None = None) -> str:
    """Sets the request and trace ids for the current context; returns the trace id."""
    trace_id = trace_id_from_traceparent(traceparent) or request_id
    _request_id.set(request_id)
    _trace_id.set(trace_id)
    return trace_id


def current_request_id() -> str:
    return _request_id.get()


def current_trace_id() -> str:
    return _trace_id.get() or _request_id.get()
