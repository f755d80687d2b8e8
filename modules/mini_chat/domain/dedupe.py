"""Usage-event dedupe keys (CI-10.3, C-19): ids as 32 lowercase hex chars, no hyphens."""

from __future__ import annotations

import re
from uuid import UUID

SYSTEM_TASK_THREAD_SUMMARY = "thread_summary_update"
_KEY_RE = re.compile(r"^[0-9a-f]{32}/(?:[0-9a-f]{32}|thread_summary_update)/[0-9a-f]{32}$")


def uuid_hex(value: UUID) -> str:
    return value.hex


def turn_dedupe_key(tenant_id: UUID, turn_id: UUID, request_id: UUID) -> str:
    return f"{tenant_id.hex}/{turn_id.hex}/{request_id.hex}"


def system_dedupe_key(tenant_id: UUID, system_request_id: UUID) -> str:
    return f"{tenant_id.hex}/{SYSTEM_TASK_THREAD_SUMMARY}/{system_request_id.hex}"


def is_dedupe_key(key: str) -> bool:
    return bool(_KEY_RE.match(key))


def check_dedupe_key(key: str, tenant_id: UUID) -> None:
    """The enqueuer's assertion: well-formed and prefixed by the event's tenant."""
    if not is_dedupe_key(key) or not key.startswith(tenant_id.hex + "/"):
        raise ValueError("dedupe key does not match the event's tenant")
