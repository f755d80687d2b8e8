"""Transactional outbox: enqueue in the business transaction, deliver per partition in order (K-15).

Usage::

    migrations = [..., outbox_migration()]                       # K-15 tables, IF NOT EXISTS
    outbox = await (
        Outbox.builder(db).profile("default")
        .queue("mini-chat.audit", partitions=8, handler=per_message(fn), lease=LeaseConfig(30, headroom=2))
        .build()                                                  # stores partitions; async
    )
    await outbox.start()                                          # module start
    async with db.transaction(write=True) as txn:
        await outbox.enqueue(txn, "mini-chat.audit", partition_for(tenant_id, 8), event, "audit.v1")
    outbox.flush()                                                # after commit
    await outbox.stop()                                           # module stop

Timestamps in the outbox tables are integer epoch microseconds from the application clock (``now_us``).
"""

from ._builder import OutboxBuilder, check_partitions, check_queue_name
from ._clock import now_us
from ._dead_letters import DeadLetter, DeadLetters
from ._enqueue import MAX_PAYLOAD, MAX_PAYLOAD_TYPE
from ._errors import (
    InvalidOutboxConfig,
    InvalidPartitionCount,
    InvalidPayload,
    InvalidPayloadType,
    InvalidQueueName,
    OutboxStateError,
    PartitionCountMismatch,
    PartitionOutOfRange,
    PayloadTooLarge,
    UnknownQueue,
)
from ._handlers import (
    Batch,
    LeaseConfig,
    LeasedHandler,
    OutboxMessage,
    Reject,
    Result,
    Retry,
    Success,
    TransactionalHandler,
    per_message,
)
from ._migration import MIGRATION_NAME, outbox_migration
from ._outbox import Outbox
from ._partition import partition_for
from ._profiles import PROFILES, Profile
from ._tables import TABLES

__all__ = [
    "MAX_PAYLOAD",
    "MAX_PAYLOAD_TYPE",
    "MIGRATION_NAME",
    "PROFILES",
    "TABLES",
    "Batch",
    "DeadLetter",
    "DeadLetters",
    "InvalidOutboxConfig",
    "InvalidPartitionCount",
    "InvalidPayload",
    "InvalidPayloadType",
    "InvalidQueueName",
    "LeaseConfig",
    "LeasedHandler",
    "Outbox",
    "OutboxBuilder",
    "OutboxMessage",
    "OutboxStateError",
    "PartitionCountMismatch",
    "PartitionOutOfRange",
    "PayloadTooLarge",
    "Profile",
    "Reject",
    "Result",
    "Retry",
    "Success",
    "TransactionalHandler",
    "UnknownQueue",
    "check_partitions",
    "check_queue_name",
    "now_us",
    "outbox_migration",
    "partition_for",
    "per_message",
]
