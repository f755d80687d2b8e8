"""K-15.9: dead-letter listing, replay claims, resolve/reject/discard/requeue/cleanup and the status machine."""

from __future__ import annotations

import asyncio

from fabrikit.kernel.db import Database
from fabrikit.kernel.outbox import Batch, Outbox, OutboxMessage, Reject, Result, Success, per_message

from .conftest import build, wait_until


async def rejected_outbox(odb: Database, handled: list[bytes]) -> Outbox:
    async def handler(message: OutboxMessage) -> Result:
        if message.payload.startswith(b"bad"):
            return Reject("bad " + message.payload_type)
        handled.append(message.payload)
        return Success()

    async def ok(batch: Batch) -> Result:
        return Success()

    outbox = await build(
        odb,
        {"name": "dl", "partitions": 2, "handler": per_message(handler)},
        {"name": "other", "partitions": 1, "handler": ok},
    )
    await outbox.enqueue_batch(
        odb, "dl", [(0, b"bad1", "t.a"), (1, b"bad2", "t.b"), (0, b"bad3", "t.a"), (1, b"good", "t.a")]
    )
    await outbox.start()
    outbox.flush()
    await wait_until(lambda: _n(outbox, 3))
    return outbox


async def _n(outbox: Outbox, n: int, status: str | None = "pending") -> bool:
    return await outbox.dead_letters.count(status=status) == n


async def test_list_and_count_filters(odb: Database) -> None:
    handled: list[bytes] = []
    outbox = await rejected_outbox(odb, handled)
    try:
        dl = outbox.dead_letters
        assert await dl.count(queue="dl") == 3
        assert await dl.count(queue="other") == 0
        assert await dl.count(partition=1) == 1
        assert await dl.count(payload_type="t.a") == 2
        assert await dl.count(status="resolved") == 0
        letters = await dl.list(queue="dl", partition=0)
        assert [(d.payload, d.seq, d.last_error, d.attempts) for d in letters] == [
            (b"bad1", 1, "bad t.a", 1),
            (b"bad3", 2, "bad t.a", 1),
        ]
        assert len(await dl.list(limit=1)) == 1
        assert letters[0].failed_at >= letters[0].created_at
    finally:
        await outbox.stop()


async def test_replay_resolve_reject_and_expired_claims(odb: Database) -> None:
    outbox = await rejected_outbox(odb, [])
    dl = outbox.dead_letters
    try:
        claimed = await dl.replay(queue="dl", partition=0, timeout=60)
        assert [d.payload for d in claimed] == [b"bad1", b"bad3"]
        assert all(d.status == "reprocessing" and d.deadline is not None for d in claimed)
        # Live claims are not handed out twice.
        assert [d.payload for d in await dl.replay(queue="dl")] == [b"bad2"]
        assert await dl.replay(queue="dl") == []
        first, second = claimed
        assert await dl.resolve([first.id]) == 1
        assert await dl.resolve([first.id]) == 0  # resolved is final
        assert await dl.reject([second.id], "still bad") == 1
        again = (await dl.list(payload_type="t.a"))[0]
        assert (again.id, again.status, again.attempts, again.last_error) == (
            second.id,
            "pending",
            2,
            "still bad",
        )
        # An unsettled claim whose deadline passed can be claimed again.
        short = await dl.replay(payload_type="t.a", timeout=0.05)
        assert [d.id for d in short] == [second.id]
        await asyncio.sleep(0.1)
        assert [d.id for d in await dl.replay(payload_type="t.a", timeout=60)] == [second.id]
        assert await dl.count(status="resolved") == 1
        assert await dl.count(status="reprocessing") == 2
    finally:
        await outbox.stop()


async def test_discard_requeue_and_cleanup(odb: Database) -> None:
    handled: list[bytes] = []
    outbox = await rejected_outbox(odb, handled)
    dl = outbox.dead_letters
    try:
        bad1, bad3 = await dl.list(partition=0)
        (bad2,) = await dl.list(partition=1)
        assert await dl.discard([bad1.id]) == 1
        assert await dl.discard([bad1.id]) == 0  # only pending can be discarded
        assert await dl.resolve([bad3.id]) == 0  # only reprocessing can be resolved
        # Requeue re-enqueues into the same queue/partition; the handler rejects bad2 again → a new dead letter.
        await odb.execute(
            "UPDATE modkit_outbox_dead_letters SET payload = {} WHERE id = {}", b"fixed", bad2.id
        )
        assert await dl.requeue([bad2.id, bad1.id]) == 1
        await wait_until(lambda: b"fixed" in handled)
        assert await dl.count(status="resolved") == 1
        assert await dl.count(status="discarded") == 1
        assert await dl.cleanup(older_than=3600) == 0
        await asyncio.sleep(0.01)
        assert await dl.cleanup(older_than=0) == 2
        assert await dl.count(status=None) == 1
        metrics = await outbox.metrics()
        assert metrics["dead_letter_backlog"] == 1
        assert metrics["oldest_pending_age_s"] > 0
        assert metrics["results"]["dl"]["dead_lettered"] == 3
    finally:
        await outbox.stop()
