"""K-15.1/K-15.2: queue and partition validation, enqueue errors, batch validated before any insert."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from fabrikit.kernel.db import Database
from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.outbox import (
    MAX_PAYLOAD,
    Batch,
    InvalidPartitionCount,
    InvalidPayload,
    InvalidPayloadType,
    InvalidQueueName,
    Outbox,
    OutboxStateError,
    PartitionOutOfRange,
    PayloadTooLarge,
    Result,
    Success,
    UnknownQueue,
)

from .conftest import build


async def ok(batch: Batch) -> Result:
    return Success()


@pytest.mark.parametrize("name", ["a", "mini-chat.audit", "A_b-c.9", "x" * 1024, "0", "q.9"])
def test_valid_queue_names(name: str) -> None:
    Outbox.builder(None).queue(name, partitions=1, handler=ok)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "-a", "a-", ".a", "a_", "a b", "a/b", "é", "x" * 1025, 7])
def test_invalid_queue_names(name: Any) -> None:
    with pytest.raises(InvalidQueueName) as info:
        Outbox.builder(None).queue(name, partitions=1, handler=ok)  # type: ignore[arg-type]
    assert info.value.code == "invalid_queue_name"


@pytest.mark.parametrize("n", [0, 3, 6, 65, 128, -1, True, 2.0])
def test_invalid_partition_counts(n: Any) -> None:
    with pytest.raises(InvalidPartitionCount):
        Outbox.builder(None).queue("q", partitions=n, handler=ok)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64])
def test_valid_partition_counts(n: int) -> None:
    Outbox.builder(None).queue("q", partitions=n, handler=ok)  # type: ignore[arg-type]


class Payload(msgspec.Struct):
    text: str


async def rows(db: Database) -> int:
    row = await db.fetch_one("SELECT count(*) AS n FROM modkit_outbox_body")
    assert row is not None
    return int(row["n"])


async def test_enqueue_errors_are_domain_errors(odb: Database) -> None:
    outbox = await build(odb, {"name": "v", "partitions": 4, "handler": ok})
    cases: list[tuple[tuple[Any, ...], type[DomainError], str]] = [
        (("v", 0, b"x" * (MAX_PAYLOAD + 1), "t"), PayloadTooLarge, "payload_too_large"),
        (("v", 0, Payload("y" * MAX_PAYLOAD), "t"), PayloadTooLarge, "payload_too_large"),
        (("v", 0, b"x", ""), InvalidPayloadType, "invalid_payload_type"),
        (("v", 0, b"x", "t" * 1025), InvalidPayloadType, "invalid_payload_type"),
        (("v", 0, b"x", "caf\u00e9"), InvalidPayloadType, "invalid_payload_type"),
        (("v", 0, b"x", "tab\there"), InvalidPayloadType, "invalid_payload_type"),
        (("v", 0, b"x", None), InvalidPayloadType, "invalid_payload_type"),
        (("nope", 0, b"x", "t"), UnknownQueue, "unknown_queue"),
        (("v", 4, b"x", "t"), PartitionOutOfRange, "partition_out_of_range"),
        (("v", -1, b"x", "t"), PartitionOutOfRange, "partition_out_of_range"),
        (("v", True, b"x", "t"), PartitionOutOfRange, "partition_out_of_range"),
        (("v", 0, 42, "t"), InvalidPayload, "invalid_payload"),
        (("v", 0, "text", "t"), InvalidPayload, "invalid_payload"),
    ]
    for args, error, code in cases:
        with pytest.raises(error) as info:
            await outbox.enqueue(odb, *args)
        assert info.value.code == code
    assert await rows(odb) == 0
    # The limits themselves are accepted.
    await outbox.enqueue(odb, "v", 3, b"x" * MAX_PAYLOAD, "t" * 1024)
    await outbox.enqueue(odb, "v", 0, {"k": [1, 2]}, "~ printable ASCII !")
    assert await rows(odb) == 2


async def test_batch_is_validated_before_any_insert(odb: Database) -> None:
    outbox = await build(odb, {"name": "v", "partitions": 2, "handler": ok})
    with pytest.raises(PartitionOutOfRange):
        await outbox.enqueue_batch(odb, "v", [(0, b"a", "t"), (1, b"b", "t"), (2, b"c", "t")])
    assert await rows(odb) == 0
    await outbox.enqueue_batch(odb, "v", [(0, b"a", "t"), (1, Payload("b"), "t")])
    stored = await odb.fetch("SELECT payload FROM modkit_outbox_body ORDER BY id")
    assert [bytes(r["payload"]) for r in stored] == [b"a", b'{"text":"b"}']


async def test_enqueue_refuses_a_foreign_transaction(odb: Database) -> None:
    outbox = await build(odb, {"name": "v", "partitions": 1, "handler": ok})
    with pytest.raises(OutboxStateError):
        await outbox.enqueue(object(), "v", 0, b"x", "t")
    assert await rows(odb) == 0


async def test_build_without_migration_says_what_is_missing(db: Database) -> None:
    with pytest.raises(OutboxStateError, match="outbox_migration"):
        await Outbox.builder(db).queue("v", partitions=1, handler=ok).build()
