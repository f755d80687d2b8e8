"""mini-chat's outbox queues (CI-10): names, partition keys, registration and the ``OutboxPort`` enqueuer.

Handlers arrive in a later issue; ``register_queues`` takes them as arguments so wiring stays in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fabrikit.kernel.outbox import LeaseConfig, Outbox, partition_for

from ..config import MiniChatConfig
from ..domain.dedupe import check_dedupe_key
from ..domain.ports import AuditEnvelope, ChatCleanupPayload, ThreadSummaryPayload
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


class OutboxEnqueuer:
    """``OutboxPort`` over a built kernel ``Outbox``; partitions by ``partition_for(key, n)`` (CI-10.1)."""

    def __init__(self, outbox: Outbox, num_partitions: int) -> None:
        self._outbox = outbox
        self._n = num_partitions

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

    async def enqueue_thread_summary(self, txn: Any, payload: ThreadSummaryPayload) -> None:
        await self._outbox.enqueue(
            txn, THREAD_SUMMARY_QUEUE, self._p(payload.chat_id), payload, PAYLOAD_THREAD_SUMMARY
        )

    def flush(self) -> None:
        self._outbox.flush()
