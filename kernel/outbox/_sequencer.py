"""The sequencer: incoming rows → outgoing rows with a per-partition ``seq`` (K-15.3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import structlog

from fabrikit.kernel.db import Database

from ._clock import now_us
from ._sql import WriteGate, placeholders
from ._stop import StopSignal
from ._tables import INCOMING, OUTGOING, PARTITIONS

_log = structlog.get_logger("fabrikit.outbox")

MOVE_LIMIT = 1000
TXNS_PER_PASS = 8
WORKERS = 3
_BUSY_RETRY = 0.05


class Sequencer:
    """Three workers drain dirty partitions; ``mark`` queues a partition, ``reconcile`` finds forgotten ones."""

    def __init__(
        self, db: Database, gate: WriteGate, stop: StopSignal, on_sequenced: Callable[[int], None]
    ) -> None:
        self._db = db
        self._stop = stop
        self._gate = gate
        self._on_sequenced = on_sequenced
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()
        self._active: set[int] = set()
        self._again: set[int] = set()

    def mark(self, partition_id: int) -> None:
        if partition_id in self._active:
            self._again.add(partition_id)
        elif partition_id not in self._queued:
            self._queued.add(partition_id)
            self._queue.put_nowait(partition_id)

    def mark_all(self, partition_ids: Iterable[int]) -> None:
        for partition_id in partition_ids:
            self.mark(partition_id)

    async def reconcile(self, partition_ids: set[int]) -> None:
        """Marks every partition of ``partition_ids`` that has incoming rows."""
        if not partition_ids:
            return
        ids = sorted(partition_ids)
        rows = await self._db.fetch(
            f"SELECT DISTINCT partition_id FROM {INCOMING} WHERE partition_id IN ({placeholders(len(ids))})",
            *ids,
        )
        self.mark_all(int(r["partition_id"]) for r in rows)

    async def worker(self) -> None:
        while True:
            async with self._stop.interruptible():
                partition_id = await self._queue.get()
            self._queued.discard(partition_id)
            self._active.add(partition_id)
            try:
                await self._drain(partition_id)
            except Exception as exc:  # worker errors are logged, never fatal (K-15.7)
                _log.warning("outbox_sequencer_failed", partition_id=partition_id, error=repr(exc))
                self._retry_later(partition_id, 1.0)
            finally:
                self._active.discard(partition_id)
            if partition_id in self._again:
                self._again.discard(partition_id)
                self.mark(partition_id)

    async def _drain(self, partition_id: int) -> None:
        for _ in range(TXNS_PER_PASS):
            moved = await self._move(partition_id)
            if moved is None:
                # Another process holds the partition row; it may have read before our rows committed.
                self._retry_later(partition_id, _BUSY_RETRY)
                return
            if moved:
                self._on_sequenced(partition_id)
            if moved < MOVE_LIMIT:
                return
        self._again.add(partition_id)

    def _retry_later(self, partition_id: int, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self.mark, partition_id)

    async def _move(self, partition_id: int) -> int | None:
        """Moves ≤ 1000 incoming rows in one transaction; ``None`` when the partition row is locked elsewhere."""
        db = self._db
        async with self._gate.write(relaxed=True):
            if db.dialect == "postgres":
                row = await db.fetch_one(
                    f"SELECT sequence FROM {PARTITIONS} WHERE id = {{}} FOR UPDATE SKIP LOCKED", partition_id
                )
                if row is None:
                    return None
                moved = await db.fetch_one(
                    f"WITH moved AS (DELETE FROM {INCOMING} WHERE id IN (SELECT id FROM {INCOMING} "
                    f"WHERE partition_id = {{}} ORDER BY id LIMIT {MOVE_LIMIT}) RETURNING id, body_id), "
                    f"ins AS (INSERT INTO {OUTGOING} (partition_id, body_id, seq, sequenced_at) "
                    "SELECT {}, body_id, {}::bigint + ROW_NUMBER() OVER (ORDER BY id), {} FROM moved RETURNING seq) "
                    "SELECT count(*) AS n FROM ins",
                    partition_id,
                    partition_id,
                    int(row["sequence"]),
                    now_us(),
                )
                count = int(moved["n"]) if moved else 0
            else:
                row = await db.fetch_one(f"SELECT sequence FROM {PARTITIONS} WHERE id = {{}}", partition_id)
                if row is None:
                    return 0
                span = await db.fetch_one(
                    f"SELECT count(*) AS n, max(id) AS top FROM (SELECT id FROM {INCOMING} "
                    f"WHERE partition_id = {{}} ORDER BY id LIMIT {MOVE_LIMIT})",
                    partition_id,
                )
                count = int(span["n"]) if span else 0
                if count:
                    assert span is not None
                    await db.execute(
                        f"INSERT INTO {OUTGOING} (partition_id, body_id, seq, sequenced_at) "
                        f"SELECT partition_id, body_id, {{}} + ROW_NUMBER() OVER (ORDER BY id), {{}} FROM {INCOMING} "
                        "WHERE partition_id = {} AND id <= {}",
                        int(row["sequence"]),
                        now_us(),
                        partition_id,
                        span["top"],
                    )
                    await db.execute(
                        f"DELETE FROM {INCOMING} WHERE partition_id = {{}} AND id <= {{}}",
                        partition_id,
                        span["top"],
                    )
            if count:
                await db.execute(
                    f"UPDATE {PARTITIONS} SET sequence = sequence + {{}} WHERE id = {{}}", count, partition_id
                )
        return count
