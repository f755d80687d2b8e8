"""Cursor v1 (K-12.3): unpadded base64url of compact JSON, plus sort-key ↔ text conversion."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from typing import Literal as _Literal
from uuid import UUID

import msgspec

from ._errors import InvalidCursor
from ._fields import FieldKind
from ._literals import (
    format_datetime,
    format_time,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_float,
    parse_int,
    parse_time,
    parse_uuid,
)
from ._orderby import OrderBy, SortDir

Direction = _Literal["fwd", "bwd"]

MAX_CURSOR_LENGTH = 8192
_HASH_RE = re.compile(r"[0-9a-f]{16}")
_ENCODER = msgspec.json.Encoder()


class CursorV1(msgspec.Struct, frozen=True, kw_only=True):
    """``k`` sort-key values of the boundary row as text, ``o`` tiebreaker direction, ``s`` effective order
    (``+f1,-f2``), ``f`` filter hash or ``None``, ``d`` page direction."""

    k: tuple[str, ...]
    o: SortDir
    s: str
    f: str | None = None
    d: Direction = "fwd"

    def encode(self) -> str:
        body: dict[str, Any] = {"v": 1, "k": list(self.k), "o": self.o, "s": self.s}
        if self.f is not None:
            body["f"] = self.f
        body["d"] = self.d
        return base64.urlsafe_b64encode(_ENCODER.encode(body)).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, text: str) -> CursorV1:
        """Parse and check a cursor; raises ``InvalidCursor`` (422) with the reason."""
        if not text or len(text) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("cursor is empty or too long")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor("cursor is not valid base64url") from None
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text.rstrip("="):
            raise InvalidCursor("cursor is not valid base64url")
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise InvalidCursor("cursor does not contain JSON") from None
        if not isinstance(body, dict):
            raise InvalidCursor("cursor is not a JSON object")
        version = body.get("v")
        if type(version) is not int or version != 1:
            raise InvalidCursor("unsupported cursor version")
        keys = body.get("k")
        if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
            raise InvalidCursor("cursor keys must be a non-empty list of strings")
        tiebreak = body.get("o")
        if tiebreak not in ("asc", "desc"):
            raise InvalidCursor("cursor 'o' must be 'asc' or 'desc'")
        spec = body.get("s")
        order = OrderBy.from_spec(spec) if isinstance(spec, str) and spec else None
        if order is None:
            raise InvalidCursor("cursor sort order 's' is missing or malformed")
        if len(keys) != len(order.fields):
            raise InvalidCursor("cursor has a different number of keys than sort fields")
        filter_hash = body.get("f")
        if filter_hash is not None and not (isinstance(filter_hash, str) and _HASH_RE.fullmatch(filter_hash)):
            raise InvalidCursor("cursor filter hash 'f' must be 16 lowercase hex characters")
        direction = body.get("d", "fwd")
        if direction not in ("fwd", "bwd"):
            raise InvalidCursor("cursor direction 'd' must be 'fwd' or 'bwd'")
        return cls(k=tuple(keys), o=tiebreak, s=spec, f=filter_hash, d=direction)  # type: ignore[arg-type]

    @property
    def order(self) -> OrderBy:
        order = OrderBy.from_spec(self.s)
        if order is None:
            raise InvalidCursor("cursor sort order 's' is malformed")
        return order


def key_to_text(value: object) -> str:
    """A sort-key value as cursor text: uuid lowercase, datetime RFC 3339 UTC µs ``Z``, numbers as text, bool
    ``true|false``. Naive datetimes are taken as UTC."""
    if value is None:
        raise ValueError("a cursor key cannot be null (sortable fields must be non-nullable)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"unsupported cursor key type {type(value).__name__}")


_FROM_TEXT: dict[str, Any] = {
    "int": parse_int,
    "float": parse_float,
    "decimal": parse_decimal,
    "uuid": parse_uuid,
    "datetime": parse_datetime,
    "date": parse_date,
    "time": parse_time,
    "bool": {"true": True, "false": False}.get,
}


def key_from_text(text: str, kind: FieldKind) -> Any:
    """Inverse of ``key_to_text`` for a field kind; raises ``InvalidCursor`` when ``text`` does not fit."""
    if kind == "string":
        return text
    value = _FROM_TEXT[kind](text)
    if value is None:
        raise InvalidCursor(f"cursor key {text!r} is not a valid {kind}")
    return value
