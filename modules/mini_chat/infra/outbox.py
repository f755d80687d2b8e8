"""mini-chat's outbox queues (CI-10): names, partition keys, registration and the ``OutboxPort`` enqueuer.

Handlers live in ``handlers.py``; ``background.start_background`` builds, binds and starts the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fabrikit.kernel.outbox import LeaseConfig, Outbox, partition_for

from ..config import MiniChatConfig
from ..domain.dedupe import check_dedupe_key
from ..domain.ports import AttachmentCleanupPayload, AuditEnvelope, ChatCleanupPayload, ThreadSummaryPayload
from ..sdk import UsageEvent

USAGE_QUEUE = "mini-chat.usage_snapshot"
AUDIT_QUEUE = "mini-chat.audit"
ATTACHMENT_CLEANUP_QUEUE = "mini-chat.attachment_cleanup"
CHAT_CLEANUP_QUEUE = "mini-chat.chat_cleanup"
THREAD_SUMMARY_QUEUE = "mini-chat.thread_summary"
QUEUES = (USAGE_QUEUE, AUDIT_QUEUE, ATTACHMENT_CLEANUP_QUEUE, CHAT_CLEANUP_QUEUE, THREAD_SUMMARY_QUEUE)

PAYLOAD_USAGE = "mini-chat.usage_event.v1"
PAYLOAD_AUDIT = "mini-chat.audit.v1"
PAYLOAD_CHAT_CLEANUP = "mini-chat.chat_cleanup.v1"
PAYLOAD_THREAD_SUMMARY = "mini-chat.thread_summary.v1"
PAYLOAD_ATTACHMENT_CLEANUP = "mini-chat.attachment_cleanup.v1"


def register_queues(builder: Any, config: MiniChatConfig, handlers: Mapping[str, Any]) -> Any:
    """Adds every queue with ``outbox.num_partitions``/``lease_seconds`` and the given handlers."""
    for name in QUEUES:
        builder = builder.queue(
            name,
            partitions=config.outbox.num_partitions,
            handler=handlers[name],
            lease=LeaseConfig(duration=config.outbox.lease_seconds),
        )
    return builder.profile(config.outbox.profile)


class OutboxNotBound(RuntimeError):
    """An enqueue before ``start_background`` bound the module's outbox."""


class OutboxEnqueuer:
    """``OutboxPort`` over a built kernel ``Outbox``; partitions by ``partition_for(key, n)`` (CI-10.1).

    May be created unbound (``OutboxEnqueuer(None, n)``) so the engine exists before the outbox: ``bind`` attaches
    the outbox built with the real handlers. Rebinding is allowed — queue partitions live in the database, so every
    ``Outbox`` built over the same queues writes the same rows.
    """

    def __init__(self, outbox: Outbox | None, num_partitions: int) -> None:
        self._bound = outbox
        self._n = num_partitions

    def bind(self, outbox: Outbox) -> None:
        self._bound = outbox

    @property
    def _outbox(self) -> Outbox:
        if self._bound is None:
            raise OutboxNotBound("mini-chat's outbox is not started yet")
        return self._bound

    def _p(self, key: Any) -> int:
        return partition_for(key, self._n)

    async def enqueue_usage(self, txn: Any, event: UsageEvent) -> None:
        check_dedupe_key(event.dedupe_key, event.tenant_id)
        await self._outbox.enqueue(txn, USAGE_QUEUE, self._p(event.tenant_id), event, PAYLOAD_USAGE)

    async def enqueue_audit(self, txn: Any, envelope: AuditEnvelope) -> None:
        await self._outbox.enqueue(
            txn, AUDIT_QUEUE, self._p(envelope.event.tenant_id), envelope, PAYLOAD_AUDIT
        )

    async def enqueue_chat_cleanup(self, txn: Any, payload: ChatCleanupPayload) -> None:
        await self._outbox.enqueue(
            txn, CHAT_CLEANUP_QUEUE, self._p(payload.chat_id), payload, PAYLOAD_CHAT_CLEANUP
        )

    async def enqueue_attachment_cleanup(self, txn: Any, payload: AttachmentCleanupPayload) -> None:
        await self._outbox.enqueue(
            txn, ATTACHMENT_CLEANUP_QUEUE, self._p(payload.tenant_id), payload, PAYLOAD_ATTACHMENT_CLEANUP
        )

    async def enqueue_thread_summary(self, txn: Any, payload: ThreadSummaryPayload) -> None:
        await self._outbox.enqueue(
            txn, THREAD_SUMMARY_QUEUE, self._p(payload.chat_id), payload, PAYLOAD_THREAD_SUMMARY
        )

    def flush(self) -> None:
        if self._bound is not None:
            self._bound.flush()
