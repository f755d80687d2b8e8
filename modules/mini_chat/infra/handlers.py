"""Outbox handlers of CI-10: usage events to the model-policy plugin, audit events to every audit plugin.

Both are per-message leased handlers (``per_message``): a ``Retry`` holds the partition (later events wait, C-18.2),
a ``Reject`` dead-letters one message and moves on. Redaction happened before enqueue (CI-17.5); handlers only
deliver what the business transaction stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from fabrikit.kernel.outbox import LeasedHandler, OutboxMessage, Reject, Result, Retry, Success, per_message
from fabrikit.kernel.plugins import fanout

from ..domain.cleanup import Cleanup, CleanupOutcome
from ..domain.dedupe import check_dedupe_key
from ..domain.ports import (
    AttachmentCleanupPayload,
    AuditEnvelope,
    ChatCleanupPayload,
    PolicyPluginSource,
    ThreadSummaryPayload,
)
from ..domain.summary_task import Outcome, ThreadSummaryTask
from ..domain.telemetry import NO_TELEMETRY, Telemetry
from ..sdk import (
    AuditPermanentError,
    MiniChatAuditPluginV1,
    PublishPermanentError,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
    UsageEvent,
)
from .outbox import (
    ATTACHMENT_CLEANUP_QUEUE,
    AUDIT_QUEUE,
    CHAT_CLEANUP_QUEUE,
    THREAD_SUMMARY_QUEUE,
    USAGE_QUEUE,
)

_log = logging.getLogger("fabrikit.mini_chat.outbox")


class UndecodablePayload(ValueError):
    """A stored payload that no handler can ever process (dead letter)."""


# -- decoding -------------------------------------------------------------------------------------------------


class _RawEnvelope(msgspec.Struct):
    type: str
    event: msgspec.Raw


_AUDIT_TYPES: dict[str, Any] = {
    "turn": TurnAuditEvent,
    "mutation": TurnMutationAuditEvent,
    "delete": TurnDeleteAuditEvent,
}


def decode_audit(payload: bytes) -> AuditEnvelope:
    """``AuditEnvelope.event`` is an untagged union of Structs; ``type`` says which one it is."""
    try:
        raw = msgspec.json.decode(payload, type=_RawEnvelope)
        event_type = _AUDIT_TYPES.get(raw.type)
        if event_type is None:
            raise UndecodablePayload(f"unknown audit envelope type {raw.type!r}")
        event = msgspec.json.decode(raw.event, type=event_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UndecodablePayload(f"audit payload does not decode: {exc}") from None
    return AuditEnvelope(type=raw.type, event=event)  # type: ignore[arg-type]


def decode_usage(payload: bytes) -> UsageEvent:
    try:
        event = msgspec.json.decode(payload, type=UsageEvent)
        check_dedupe_key(event.dedupe_key, event.tenant_id)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise UndecodablePayload(f"usage payload does not decode: {exc}") from None
    return event


async def emit_audit(plugin: MiniChatAuditPluginV1, envelope: AuditEnvelope) -> None:
    """The C-18 method for the envelope's event type."""
    event: Any = envelope.event
    if envelope.type == "turn":
        await plugin.emit_turn_audit(event)
    elif envelope.type == "delete":
        await plugin.emit_turn_delete_audit(event)
    elif event.event_type == "turn_edit":
        await plugin.emit_turn_edit_audit(event)
    else:
        await plugin.emit_turn_retry_audit(event)


# -- handlers -------------------------------------------------------------------------------------------------


class UsageHandler:
    """``mini-chat.usage_snapshot`` → the selected model-policy plugin's ``publish_usage`` (C-17, C-19).

    Permanent error or undecodable payload → Reject (dead letter); anything else, including "no plugin resolved
    yet", → Retry with the outbox backoff, without an attempt limit. Consumers dedupe on ``dedupe_key``.
    """

    def __init__(self, selector: PolicyPluginSource, telemetry: Telemetry = NO_TELEMETRY) -> None:
        self._selector = selector
        self._tm = telemetry

    def _result(self, result: Result) -> Result:
        self._tm.count("outbox_handler", queue=USAGE_QUEUE, result=type(result).__name__.lower())
        return result

    async def __call__(self, message: OutboxMessage) -> Result:
        try:
            event = decode_usage(message.payload)
        except UndecodablePayload as exc:
            _log.error("usage event dead-lettered: %s", exc)
            return self._result(Reject("undecodable"))
        try:
            plugin = await self._selector.get()
        except Exception as exc:
            return self._result(Retry(f"policy plugin unresolved: {type(exc).__name__}"))
        try:
            await plugin.publish_usage(event)
        except PublishPermanentError as exc:
            _log.error("usage event rejected by the policy plugin: %s", type(exc).__name__)
            return self._result(Reject(type(exc).__name__))
        except Exception as exc:  # PublishTransientError and anything else are transient by contract (C-17)
            self._selector.invalidate()
            return self._result(Retry(type(exc).__name__))
        return self._result(Success())


class AuditHandler:
    """``mini-chat.audit`` → every enabled audit instance of the vendor, concurrently (CI-10.2, C-18.2).

    All accepted → Success. Any transient failure (``AuditTransientError``, another exception, the call timeout)
    → Retry: plugins that accepted get the event again and dedupe on ``event_id``. ``AuditPermanentError`` is
    logged and counted (``audit_emit{result=reject}``) without blocking the others. No plugin → Success,
    ``audit_emit{result=skipped}``.
    """

    def __init__(
        self,
        selector: Any,
        vendor: str,
        call_timeout_seconds: float,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._selector = selector
        self._vendor = vendor
        self._timeout = call_timeout_seconds
        self._tm = telemetry

    def _result(self, result: Result) -> Result:
        self._tm.count("outbox_handler", queue=AUDIT_QUEUE, result=type(result).__name__.lower())
        return result

    async def __call__(self, message: OutboxMessage) -> Result:
        try:
            envelope = decode_audit(message.payload)
        except UndecodablePayload as exc:
            _log.error("audit event dead-lettered: %s", exc)
            return self._result(Reject("undecodable"))
        try:
            instances = await self._selector.all(self._vendor)
        except Exception as exc:  # the registry is not ready yet: the event waits
            return self._result(Retry(f"audit plugins unresolved: {type(exc).__name__}"))
        if not instances:
            self._tm.count("audit_emit", result="skipped")
            return self._result(Success())
        outcomes = await fanout(instances, lambda plugin: emit_audit(plugin, envelope), self._timeout)
        retry = False
        for outcome in outcomes:
            if outcome.ok:
                self._tm.count("audit_emit", result="ok")
            elif isinstance(outcome.error, AuditPermanentError):
                self._tm.count("audit_emit", result="reject")
                _log.error(
                    "audit event rejected permanently by %s (event %s)",
                    outcome.gts_id,
                    envelope.event.event_id,
                )
            else:
                retry = True
                self._tm.count("audit_emit", result="retry")
                _log.warning(
                    "audit plugin %s failed transiently: %s", outcome.gts_id, type(outcome.error).__name__
                )
        return self._result(Retry("audit plugin failed transiently") if retry else Success())


class ThreadSummaryHandler:
    """``mini-chat.thread_summary`` → ``ThreadSummaryTask`` (CI-9.3). An undecodable payload is dead-lettered; a
    failure the task did not expect (database, policy plugin) is retried like a provider error, up to
    ``thread_summary.max_attempts`` tries."""

    def __init__(self, task: ThreadSummaryTask, max_attempts: int) -> None:
        self._task = task
        self._max_attempts = max_attempts

    async def __call__(self, message: OutboxMessage) -> Result:
        try:
            payload = msgspec.json.decode(message.payload, type=ThreadSummaryPayload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return Reject(f"thread summary payload does not decode: {exc}")
        try:
            outcome = await self._task.run(payload, message.attempts)
        except Exception as exc:
            _log.warning("thread summary task failed: %s", type(exc).__name__)
            if message.attempts + 1 >= self._max_attempts:
                return Reject(f"thread summary failed {self._max_attempts} times")
            return Retry(type(exc).__name__)
        if outcome is Outcome.RETRY:
            return Retry("thread summary not produced")
        if outcome is Outcome.REJECT:
            return Reject("thread summary not produced after the last attempt")
        return Success()


class CleanupHandler:
    """``mini-chat.attachment_cleanup`` and ``mini-chat.chat_cleanup`` → ``Cleanup`` (CI-12.4, CI-12.5)."""

    def __init__(
        self, cleanup: Cleanup, payload: type[AttachmentCleanupPayload] | type[ChatCleanupPayload]
    ) -> None:
        self._cleanup = cleanup
        self._payload = payload

    async def __call__(self, message: OutboxMessage) -> Result:
        try:
            payload = msgspec.json.decode(message.payload, type=self._payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return Reject(f"cleanup payload does not decode: {exc}")
        if isinstance(payload, AttachmentCleanupPayload):
            outcome = await self._cleanup.attachment(payload)
        else:
            outcome = await self._cleanup.chat(payload)
        if outcome is CleanupOutcome.RETRY:
            return Retry("provider cleanup pending")
        if outcome is CleanupOutcome.REJECT:
            return Reject("the chat of this cleanup is not deleted")
        return Success()


def outbox_handlers(
    *,
    vendor: str,
    audit_call_timeout_seconds: float,
    policy_selector: PolicyPluginSource,
    audit_selector: Any,
    telemetry: Telemetry = NO_TELEMETRY,
    summary: ThreadSummaryHandler,
    cleanup: Cleanup,
    extra: Mapping[str, LeasedHandler] | None = None,
) -> dict[str, LeasedHandler]:
    """One leased handler per CI-10 queue; ``extra`` replaces any (tests)."""
    handlers: dict[str, LeasedHandler] = {
        USAGE_QUEUE: per_message(UsageHandler(policy_selector, telemetry)),
        AUDIT_QUEUE: per_message(AuditHandler(audit_selector, vendor, audit_call_timeout_seconds, telemetry)),
        CHAT_CLEANUP_QUEUE: per_message(CleanupHandler(cleanup, ChatCleanupPayload)),
        ATTACHMENT_CLEANUP_QUEUE: per_message(CleanupHandler(cleanup, AttachmentCleanupPayload)),
        THREAD_SUMMARY_QUEUE: per_message(summary),
    }
    handlers.update(extra or {})
    return handlers


__all__ = [
    "AuditHandler",
    "CleanupHandler",
    "ThreadSummaryHandler",
    "UndecodablePayload",
    "UsageHandler",
    "decode_audit",
    "decode_usage",
    "emit_audit",
    "outbox_handlers",
]
