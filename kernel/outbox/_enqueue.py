"""Validation and the inserts of ``enqueue`` / ``enqueue_batch`` (K-15.2)."""

from __future__ import annotations

from typing import Any

import msgspec

from fabrikit.kernel.db import Database

from ._clock import now_us
from ._errors import InvalidPayload, InvalidPayloadType, PayloadTooLarge
from ._tables import BODY, INCOMING

MAX_PAYLOAD = 64 * 1024
MAX_PAYLOAD_TYPE = 1024
# Rows per INSERT: far below both engines' bound-parameter limits.
_CHUNK = 250
_encoder = msgspec.json.Encoder()


def encode_payload(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray | memoryview):
        data = bytes(payload)
    elif isinstance(payload, msgspec.Struct | dict):
        try:
            data = _encoder.encode(payload)
        except (TypeError, msgspec.EncodeError) as exc:
            raise InvalidPayload(f"payload cannot be encoded as JSON: {exc}") from exc
    else:
        raise InvalidPayload(
            f"payload must be bytes, a msgspec Struct or a dict, not {type(payload).__name__}"
        )
    if len(data) > MAX_PAYLOAD:
        raise PayloadTooLarge(f"payload is {len(data)} bytes, the limit is {MAX_PAYLOAD}")
    return data


def check_payload_type(payload_type: Any) -> str:
    if not isinstance(payload_type, str) or not 1 <= len(payload_type) <= MAX_PAYLOAD_TYPE:
        raise InvalidPayloadType(f"payload type must be a string of 1–{MAX_PAYLOAD_TYPE} characters")
    if not all(" " <= ch <= "~" for ch in payload_type):
        raise InvalidPayloadType("payload type must be printable ASCII")
    return payload_type


async def insert_messages(db: Database, rows: list[tuple[int, bytes, str]]) -> None:
    """Inserts body + incoming rows for ``(partition_id, payload, payload_type)`` in order, in the current txn.

    One multi-row INSERT per chunk; a statement assigns its ids in VALUES order, so sorting the returned ids
    restores the row order and the incoming ids keep the enqueue order (FIFO).
    """
    created = now_us()
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        args: list[Any] = []
        for _, payload, payload_type in chunk:
            args.extend((payload, payload_type, created))
        values = ", ".join(["({}, {}, {})"] * len(chunk))
        returned = await db.fetch(
            f"INSERT INTO {BODY} (payload, payload_type, created_at) VALUES {values} RETURNING id", *args
        )
        body_ids = sorted(int(r["id"]) for r in returned)
        links: list[Any] = []
        for (partition_id, _, _), body_id in zip(chunk, body_ids, strict=True):
            links.extend((partition_id, body_id))
        await db.execute(
            f"INSERT INTO {INCOMING} (partition_id, body_id) VALUES {', '.join(['({}, {})'] * len(chunk))}",
            *links,
        )
