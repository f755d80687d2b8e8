"""K-15.2–K-15.5, K-15.7: transactional enqueue, FIFO per partition, at-least-once, leases, retries, stop."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import msgspec
import pytest
from structlog.testing import capture_logs

from fabrikit.kernel.db import Database
from fabrikit.kernel.outbox import (
    Batch,
    LeaseConfig,
    OutboxMessage,
    PartitionCountMismatch,
    Reject,
    Result,
    Retry,
    Success,
    per_message,
)

from .conftest import build, wait_until


class Event(msgspec.Struct):
    key: str
    n: int


async def count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT count(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


async def test_rolled_back_enqueue_leaves_nothing(odb: Database) -> None:
    seen: list[OutboxMessage] = []

    async def handler(batch: Batch) -> Result:
        seen.extend(batch)
        return Success()

    outbox = await build(odb, {"name": "q", "partitions": 2, "handler": handler})
    await outbox.start()
    try:

        async def business() -> None:
            async with odb.transaction(write=True) as txn:
                await odb.execute("SELECT 1")
                await outbox.enqueue(txn, "q", 1, {"a": 1}, "t.v1")
                raise RuntimeError("business failure")

        with pytest.raises(RuntimeError, match="business failure"):
            await business()
        outbox.flush()
        for table in ("modkit_outbox_body", "modkit_outbox_incoming", "modkit_outbox_outgoing"):
            assert await count(odb, table) == 0
        # A committed one right after is delivered; the rolled-back one never is.
        async with odb.transaction(write=True) as txn:
            await outbox.enqueue(txn, "q", 1, Event("k", 7), "t.v1")
        outbox.flush()
        await wait_until(lambda: len(seen) == 1)
    finally:
        await outbox.stop()
    assert seen[0].decode(Event) == Event("k", 7)
    assert (seen[0].queue, seen[0].partition, seen[0].seq, seen[0].attempts) == ("q", 1, 1, 0)
    assert seen[0].key == f"{seen[0].partition_id}:1"


async def test_fifo_per_partition_with_batches(odb: Database) -> None:
    got: dict[int, list[int]] = defaultdict(list)

    async def handler(batch: Batch) -> Result:
        for message in batch:
            got[message.partition].append(msgspec.json.decode(message.payload)["n"])
        return Success()

    outbox = await build(odb, {"name": "fifo", "partitions": 4, "handler": handler})
    await outbox.start()
    try:
        n = 0
        for _ in range(6):
            async with odb.transaction(write=True) as txn:
                items = []
                for _ in range(25):
                    items.append((n % 4, {"n": n}, "n"))
                    n += 1
                await outbox.enqueue_batch(txn, "fifo", items)
            outbox.flush()
        await wait_until(lambda: sum(len(v) for v in got.values()) == n)
    finally:
        await outbox.stop()
    for partition in range(4):
        assert got[partition] == list(range(partition, n, 4))


async def test_at_least_once_with_crashing_and_retrying_handler(odb: Database) -> None:
    rng = random.Random(7)
    handled: dict[int, list[int]] = defaultdict(list)
    deliveries = 0

    async def handler(message: OutboxMessage) -> Result:
        nonlocal deliveries
        deliveries += 1
        roll = rng.random()
        if roll < 0.25:
            raise RuntimeError("handler crashed")
        if roll < 0.5:
            return Retry("flaky downstream")
        handled[message.partition].append(msgspec.json.decode(message.payload)["n"])
        return Success()

    outbox = await build(odb, {"name": "flaky", "partitions": 4, "handler": per_message(handler)})
    total = 120
    async with odb.transaction(write=True) as txn:
        await outbox.enqueue_batch(txn, "flaky", [(i % 4, {"n": i}, "n") for i in range(total)])
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: sum(len(v) for v in handled.values()) >= total, timeout=60)
    finally:
        await outbox.stop()
    assert deliveries > total
    for partition in range(4):
        expected = list(range(partition, total, 4))
        # At-least-once: per_message only advances past Successes, so each message is handled once, in order.
        assert handled[partition] == expected
    assert await outbox.dead_letters.count() == 0
    rows = await odb.fetch("SELECT processed_seq FROM modkit_outbox_processor ORDER BY partition_id")
    assert [r["processed_seq"] for r in rows] == [total // 4] * 4


async def test_expired_lease_is_redelivered_and_late_ack_refused(odb: Database) -> None:
    """Consumer A overruns its lease (ignoring cancellation); B takes over; A's late Success is refused."""
    b_handled: list[int] = []
    a_started = asyncio.Event()
    release_a = asyncio.Event()

    async def stubborn(batch: Batch) -> Result:
        a_started.set()
        while not release_a.is_set():
            try:
                await release_a.wait()
            except asyncio.CancelledError:
                # Misbehaving handler: swallows the deadline cancellation and keeps working.
                continue
        return Success()

    async def polite(batch: Batch) -> Result:
        b_handled.extend(m.seq for m in batch)
        return Success()

    lease = LeaseConfig(0.6, headroom=0.1)
    a = await build(odb, {"name": "lease", "partitions": 1, "handler": stubborn, "lease": lease})
    async with odb.transaction(write=True) as txn:
        await a.enqueue_batch(txn, "lease", [(0, b"m1", "raw"), (0, b"m2", "raw")])
    with capture_logs() as logs:
        await a.start()
        a.flush()
        await asyncio.wait_for(a_started.wait(), 30)
        b = await build(odb, {"name": "lease", "partitions": 1, "handler": polite, "lease": lease})
        await b.start()
        try:
            await wait_until(lambda: b_handled == [1, 2])
            release_a.set()
            await wait_until(lambda: any(e["event"] == "outbox_lease_lost" for e in logs))
        finally:
            await a.stop()
            await b.stop()
    lost = [e for e in logs if e["event"] == "outbox_lease_lost"]
    assert lost[0]["queue"] == "lease"
    assert lost[0]["holder"].startswith("lease-")
    assert len(lost[0]["holder"]) == len("lease-") + 6
    row = await odb.fetch_one("SELECT processed_seq, locked_by FROM modkit_outbox_processor")
    assert row == {"processed_seq": 2, "locked_by": None}


async def test_lease_expiry_mid_handler_becomes_retry(odb: Database) -> None:
    calls: list[tuple[int, int]] = []
    remaining: list[float] = []

    async def slow_first(batch: Batch) -> Result:
        calls.append((batch[0].seq, batch[0].attempts))
        remaining.append(batch.remaining())
        if len(calls) == 1:
            await asyncio.sleep(30)
        return Success()

    outbox = await build(
        odb, {"name": "slow", "partitions": 1, "handler": slow_first, "lease": LeaseConfig(0.8, headroom=0.3)}
    )
    await outbox.enqueue(odb, "slow", 0, b"x", "raw")
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: len(calls) == 2)
    finally:
        await outbox.stop()
    assert calls == [(1, 0), (1, 1)]
    assert 0 < remaining[0] <= 0.5
    row = await odb.fetch_one("SELECT processed_seq, attempts, last_error FROM modkit_outbox_processor")
    assert row == {"processed_seq": 1, "attempts": 0, "last_error": None}


async def test_max_attempts_dead_letters_and_continues(odb: Database) -> None:
    handled: list[bytes] = []
    tries: list[int] = []

    async def handler(message: OutboxMessage) -> Result:
        if message.payload == b"poison":
            tries.append(message.attempts)
            return Retry("still broken")
        handled.append(message.payload)
        return Success()

    outbox = await build(
        odb, {"name": "poison", "partitions": 1, "handler": per_message(handler), "max_attempts": 3}
    )
    await outbox.enqueue_batch(odb, "poison", [(0, b"a", "raw"), (0, b"poison", "raw"), (0, b"b", "raw")])
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: handled == [b"a", b"b"])
    finally:
        await outbox.stop()
    assert tries == [0, 1, 2]
    letters = await outbox.dead_letters.list()
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.queue, letter.partition, letter.seq, letter.payload) == ("poison", 0, 2, b"poison")
    assert (letter.status, letter.last_error, letter.attempts) == ("pending", "max attempts exceeded", 3)


async def test_reject_dead_letters_and_per_message_continues(odb: Database) -> None:
    handled: list[bytes] = []

    async def handler(message: OutboxMessage) -> Result:
        if message.payload.startswith(b"bad"):
            return Reject(f"cannot handle {message.payload.decode()}")
        handled.append(message.payload)
        return Success()

    async def batch_rejecter(batch: Batch) -> Result:
        return Reject("whole batch refused")

    outbox = await build(
        odb,
        {"name": "mixed", "partitions": 1, "handler": per_message(handler)},
        {"name": "refuse", "partitions": 1, "handler": batch_rejecter},
    )
    await outbox.enqueue_batch(odb, "mixed", [(0, b"a", "raw"), (0, b"bad1", "raw"), (0, b"b", "raw")])
    await outbox.enqueue_batch(odb, "refuse", [(0, b"x", "raw"), (0, b"y", "raw")])
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: handled == [b"a", b"b"])
        await wait_until(lambda: outbox.dead_letters.count(queue="refuse"))
        await wait_until(lambda: _count_is(outbox, "refuse", 2))
    finally:
        await outbox.stop()
    mixed = await outbox.dead_letters.list(queue="mixed")
    assert [(d.seq, d.payload, d.last_error) for d in mixed] == [(2, b"bad1", "cannot handle bad1")]
    refused = await outbox.dead_letters.list(queue="refuse")
    assert [(d.seq, d.last_error) for d in refused] == [
        (1, "whole batch refused"),
        (2, "whole batch refused"),
    ]


async def _count_is(outbox: object, queue: str, n: int) -> bool:
    return await outbox.dead_letters.count(queue=queue) == n  # type: ignore[attr-defined]


async def test_vacuum_deletes_processed_rows_only(odb: Database) -> None:
    handled: list[int] = []
    gate = asyncio.Event()

    async def handler(message: OutboxMessage) -> Result:
        if message.seq > 5:
            await gate.wait()
        handled.append(message.seq)
        return Success()

    outbox = await build(
        odb, {"name": "vac", "partitions": 1, "handler": per_message(handler)}, profile="low_latency"
    )
    await outbox.enqueue_batch(odb, "vac", [(0, b"%d" % i, "raw") for i in range(8)])
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: len(handled) == 5)
        # Only the delivered prefix goes; delivery itself deleted nothing.
        assert await count(odb, "modkit_outbox_outgoing") == 8
        assert await outbox.vacuum() == 5
        assert await count(odb, "modkit_outbox_outgoing") == 3
        assert await count(odb, "modkit_outbox_body") == 3
        gate.set()
        await wait_until(lambda: len(handled) == 8)
        await wait_until(lambda: _processed(odb, 8))
        assert await outbox.vacuum() == 3
    finally:
        await outbox.stop()
    assert await count(odb, "modkit_outbox_outgoing") == 0
    assert await count(odb, "modkit_outbox_body") == 0
    row = await odb.fetch_one("SELECT counter FROM modkit_outbox_vacuum_counter")
    assert row == {"counter": 0}


async def _processed(db: Database, seq: int) -> bool:
    row = await db.fetch_one("SELECT processed_seq FROM modkit_outbox_processor")
    return row is not None and row["processed_seq"] == seq


async def test_clean_stop_cancels_workers_and_redelivers_in_flight(odb: Database) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()
    second: list[int] = []

    async def hang(batch: Batch) -> Result:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Success()

    lease = LeaseConfig(0.5, headroom=0.1)
    first = await build(odb, {"name": "stop", "partitions": 1, "handler": hang, "lease": lease})
    await first.enqueue(odb, "stop", 0, b"m", "raw")
    await first.start()
    first.flush()
    await asyncio.wait_for(started.wait(), 30)
    await first.stop(timeout=5)
    assert cancelled.is_set()
    assert not first.running
    assert all(t.done() for t in asyncio.all_tasks() if (t.get_name() or "").startswith("outbox:"))

    async def record(batch: Batch) -> Result:
        second.extend(m.attempts for m in batch)
        return Success()

    again = await build(odb, {"name": "stop", "partitions": 1, "handler": record, "lease": lease})
    await again.start()
    try:
        await wait_until(lambda: second == [1])
    finally:
        await again.stop()


async def test_partition_count_mismatch_and_idempotent_registration(odb: Database) -> None:
    async def handler(batch: Batch) -> Result:
        return Success()

    first = await build(odb, {"name": "pc", "partitions": 4, "handler": handler})
    again = await build(odb, {"name": "pc", "partitions": 4, "handler": handler})
    assert first.partition_id("pc", 3) == again.partition_id("pc", 3)
    with pytest.raises(PartitionCountMismatch) as info:
        await build(odb, {"name": "pc", "partitions": 8, "handler": handler})
    err = info.value
    assert (err.queue, err.existing, err.requested) == ("pc", 4, 8)
    assert err.code == "partition_count_mismatch"
    assert err.to_problem().extensions == {"queue": "pc", "existing": 4, "requested": 8}
    assert await count(odb, "modkit_outbox_partitions") == 4


async def test_transactional_handler_is_atomic_with_the_cursor(odb: Database) -> None:
    await odb.run_ddl("CREATE TABLE effects (v TEXT NOT NULL)")
    calls = 0

    async def handler(txn: object, batch: Batch) -> Result:
        nonlocal calls
        calls += 1
        for message in batch:
            await odb.execute("INSERT INTO effects (v) VALUES ({})", message.payload.decode())
        if calls == 1:
            raise RuntimeError("rolled back with the cursor")
        if calls == 2:
            return Retry("writes persist, cursor stays")
        return Success()

    outbox = await build(odb, {"name": "txn", "partitions": 1, "handler": handler, "mode": "transactional"})
    await outbox.enqueue(odb, "txn", 0, b"e", "raw")
    await outbox.start()
    outbox.flush()
    try:
        await wait_until(lambda: _processed(odb, 1))
    finally:
        await outbox.stop()
    assert calls == 3
    rows = await odb.fetch("SELECT v FROM effects")
    assert [r["v"] for r in rows] == ["e", "e"]
