"""Handler contract: messages, batches, results and the ``per_message`` adapter (K-15.5, K-15.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import msgspec

T = TypeVar("T")


class Success(msgspec.Struct, frozen=True):
    """Every message of the batch is done."""


class Retry(msgspec.Struct, frozen=True):
    """Try the unprocessed messages again after a backoff."""

    reason: str = ""


class Reject(msgspec.Struct, frozen=True):
    """The unprocessed messages can never succeed: dead-letter them and move on."""

    reason: str = ""


Result = Success | Retry | Reject


class LeaseConfig(msgspec.Struct, frozen=True):
    """Lease ``duration`` and the ``headroom`` kept between the handler deadline and the lease end (seconds)."""

    duration: float = 30.0
    headroom: float = 2.0

    def __post_init__(self) -> None:
        if not 0 <= self.headroom < self.duration:
            raise ValueError("LeaseConfig needs 0 <= headroom < duration")

    @classmethod
    def of(cls, duration: float | timedelta, headroom: float | timedelta = 2.0) -> LeaseConfig:
        def secs(v: float | timedelta) -> float:
            return v.total_seconds() if isinstance(v, timedelta) else float(v)

        return cls(secs(duration), secs(headroom))


class OutboxMessage(msgspec.Struct, frozen=True):
    """One delivered message; ``attempts`` counts earlier tries. Idempotency key: ``key``."""

    queue: str
    partition: int
    partition_id: int
    seq: int
    payload: bytes
    payload_type: str
    created_at: datetime
    attempts: int

    @property
    def key(self) -> str:
        return f"{self.partition_id}:{self.seq}"

    def decode(self, type: type[T] = Any) -> T:  # type: ignore[assignment]
        """The payload as msgspec JSON decoded into ``type``."""
        return msgspec.json.decode(self.payload, type=type)


class Batch(Sequence[OutboxMessage]):
    """The messages of one claim, in seq order, with the handler deadline (``remaining()`` seconds)."""

    def __init__(self, messages: list[OutboxMessage], deadline: float) -> None:
        self.messages = messages
        self.deadline = deadline
        # Progress a per-message handler records, readable after its task was cancelled at the deadline.
        self.done = 0
        self.rejects: list[tuple[OutboxMessage, str]] = []

    def remaining(self) -> float:
        """Seconds left before the handler deadline (``lease_start + duration − headroom``); may be ≤ 0."""
        return self.deadline - asyncio.get_running_loop().time()

    def __len__(self) -> int:
        return len(self.messages)

    def __getitem__(self, index: Any) -> Any:
        return self.messages[index]

    def __iter__(self) -> Iterator[OutboxMessage]:
        return iter(self.messages)

    def __repr__(self) -> str:
        return f"Batch(size={len(self.messages)}, done={self.done}, rejects={len(self.rejects)})"


class LeasedHandler(Protocol):
    async def __call__(self, batch: Batch) -> Result: ...


class TransactionalHandler(Protocol):
    async def __call__(self, txn: Any, batch: Batch) -> Result: ...


MessageFn = Callable[[OutboxMessage], Awaitable[Result]]


def per_message(fn: MessageFn) -> LeasedHandler:
    """A leased handler calling ``fn`` per message: Rejects are recorded and skipped; a Retry or the deadline
    stops the batch (the messages before it count as processed)."""

    async def handle(batch: Batch) -> Result:
        for message in batch.messages[batch.done :]:
            if batch.remaining() <= 0:
                return Retry("lease expired")
            result = await fn(message)
            if isinstance(result, Retry):
                return result
            if isinstance(result, Reject):
                batch.rejects.append((message, result.reason))
            elif not isinstance(result, Success):
                raise TypeError(f"per-message handler returned {type(result).__name__}, not a Result")
            batch.done += 1
        return Success()

    handle.per_message = True  # type: ignore[attr-defined]
    return handle
