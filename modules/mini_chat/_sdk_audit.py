"""Audit plugin contract (C-18): every matching instance receives every event."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable
from uuid import UUID

import msgspec


class AuditUsage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    input_tokens: int
    output_tokens: int
    model: str | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_tokens: int | None = None


class LatencyMs(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    ttft_ms: int | None = None
    total_ms: int | None = None


class LicenseDecision(msgspec.Struct, frozen=True, kw_only=True):
    feature: str
    decision: str


class QuotaDecision(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    decision: str
    quota_scope: str | None = None
    downgrade_from: str | None = None
    downgrade_reason: str | None = None


class PolicyDecisions(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    quota: QuotaDecision
    license: LicenseDecision | None = None


class AuditAttachment(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    attachment_id: UUID
    attachment_kind: str
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    image_used_in_turn: bool | None = None
    doc_summary: str | None = None


class ToolCalls(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    file_search_calls: int | None = None
    web_search_calls: int | None = None
    code_interpreter_calls: int | None = None


class TurnAuditEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    event_id: UUID
    event_type: Literal["turn_completed", "turn_failed"]
    timestamp: datetime
    tenant_id: UUID
    requester_type: Literal["user", "system"]
    user_id: UUID
    chat_id: UUID
    turn_id: UUID
    request_id: UUID
    terminal_state: Literal["completed", "failed", "cancelled"]
    selected_model: str
    effective_model: str
    latency_ms: LatencyMs
    policy_decisions: PolicyDecisions
    attachments: tuple[AuditAttachment, ...] = ()
    trace_id: str | None = None
    policy_version_applied: int | None = None
    usage: AuditUsage | None = None
    error_code: str | None = None
    prompt: str | None = None
    response: str | None = None
    tool_calls: ToolCalls | None = None


class TurnMutationAuditEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    event_id: UUID
    event_type: Literal["turn_retry", "turn_edit"]
    timestamp: datetime
    tenant_id: UUID
    requester_type: Literal["user", "system"]
    actor_user_id: UUID
    chat_id: UUID
    turn_id: UUID
    original_request_id: UUID
    new_request_id: UUID
    trace_id: str | None = None


class TurnDeleteAuditEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    event_id: UUID
    event_type: Literal["turn_delete"]
    timestamp: datetime
    tenant_id: UUID
    requester_type: Literal["user", "system"]
    actor_user_id: UUID
    chat_id: UUID
    turn_id: UUID
    request_id: UUID
    trace_id: str | None = None


class AuditTransientError(Exception):
    """The audit sink failed in a way worth retrying."""


class AuditPermanentError(Exception):
    """The audit sink will never accept this event."""


@runtime_checkable
class MiniChatAuditPluginV1(Protocol):
    async def emit_turn_audit(self, event: TurnAuditEvent) -> None: ...

    async def emit_turn_retry_audit(self, event: TurnMutationAuditEvent) -> None: ...

    async def emit_turn_edit_audit(self, event: TurnMutationAuditEvent) -> None: ...

    async def emit_turn_delete_audit(self, event: TurnDeleteAuditEvent) -> None: ...
