"""Errors of the transactional outbox (K-15)."""

from __future__ import annotations

from fabrikit.kernel.errors import Conflict, DomainError, InvalidArgument


class InvalidQueueName(InvalidArgument):
    """A queue name is not ``[A-Za-z0-9._-]{1,1024}`` with an alphanumeric first and last character."""

    code, title = "invalid_queue_name", "Invalid outbox queue name"


class InvalidPartitionCount(InvalidArgument):
    """A partition count is not a power of two within 1–64."""

    code, title = "invalid_partition_count", "Invalid outbox partition count"


class InvalidOutboxConfig(InvalidArgument):
    """A builder argument (profile, lease, mode, handler, max_attempts) is invalid."""

    code, title = "invalid_outbox_config", "Invalid outbox configuration"


class PartitionCountMismatch(Conflict):
    """The stored partitions of ``queue`` number ``existing``, the code asks for ``requested`` (K-15.1)."""

    code, title = "partition_count_mismatch", "Outbox partition count mismatch"
    extensions = ("queue", "existing", "requested")

    def __init__(self, queue: str, existing: int, requested: int) -> None:
        super().__init__(
            f"queue {queue!r} has {existing} stored partitions, {requested} requested",
            queue=queue,
            existing=existing,
            requested=requested,
        )
        self.queue = queue
        self.existing = existing
        self.requested = requested


class PayloadTooLarge(InvalidArgument):
    """An encoded payload exceeds 64 KiB."""

    code, status, title = "payload_too_large", 413, "Outbox payload too large"


class InvalidPayload(InvalidArgument):
    """A payload is neither bytes nor a msgspec Struct / dict."""

    code, title = "invalid_payload", "Invalid outbox payload"


class InvalidPayloadType(InvalidArgument):
    """A payload type is not 1–1024 printable ASCII characters."""

    code, title = "invalid_payload_type", "Invalid outbox payload type"


class UnknownQueue(InvalidArgument):
    """The queue was not registered with this outbox."""

    code, title = "unknown_queue", "Unknown outbox queue"


class PartitionOutOfRange(InvalidArgument):
    """The partition is outside ``0 ≤ partition < n``."""

    code, title = "partition_out_of_range", "Outbox partition out of range"


class OutboxStateError(DomainError):
    """The outbox was used in the wrong lifecycle state or outside the transaction it was given."""

    code, status, title = "outbox_state_error", 500, "Outbox used in a wrong state"
