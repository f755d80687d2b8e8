"""HTTP-side error rules the kernel's problem mapping does not know: path ids (C-1.7) and manual bodies (C-1.6)."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

import msgspec

from fabrikit.kernel.errors import FieldError

from ..domain.errors import ChatNotFound, ValidationFailed

T = TypeVar("T")

# A malformed child id (message, turn request id) is a resource that cannot exist; passing this id on lets the
# service answer in its own check order (chat first, then the child's not-found code).
MISSING_ID = UUID(int=0)


def chat_id_of(raw: str) -> UUID:
    """A chat path segment that is not a UUID is a chat that does not exist (C-1.7)."""
    parsed = _uuid(raw)
    if parsed is None:
        raise ChatNotFound("chat not found")
    return parsed


def child_id_of(raw: str) -> UUID:
    parsed = _uuid(raw)
    return MISSING_ID if parsed is None else parsed


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def convert_body(raw: object, body_type: type[T]) -> T:
    """For handlers that must check something before the body's fields (C-12 order): 400 ``validation_error``
    with ``errors[]``, like the kernel's mapping of Litestar's own decoding."""
    try:
        return msgspec.convert(raw, type=body_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = ""
        if " - at `$." in message:
            message, _, path = message.partition(" - at `$.")
            field = path.rstrip("`")
        code = "missing_field" if message.startswith("Object missing required field") else "invalid_value"
        if message.startswith("Expected `"):
            code = "invalid_type"
        raise ValidationFailed(
            "The request did not pass validation.", errors=[FieldError(field, message, code)]
        ) from None
