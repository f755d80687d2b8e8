"""The outbox handle: enqueue, flush, worker lifecycle, dead letters (K-15.1, K-15.2)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any

import structlog

from fabrikit.kernel.db import Database, advisory_key

from ._clock import now_us
from ._dead_letters import DeadLetters
from ._enqueue import check_payload_type, encode_payload, insert_messages
from ._errors import OutboxStateError, PartitionCountMismatch, PartitionOutOfRange, UnknownQueue
from ._processor import Processor
from ._runtime import QueueSpec, Runtime
from ._sequencer import WORKERS, Sequencer
from ._sql import placeholders
from ._tables import DEAD_LETTERS, PARTITIONS, PROCESSOR, VACUUM_COUNTER
from ._vacuum import vacuum_once

_log = structlog.get_logger("fabrikit.outbox")


class Outbox:
    """A built outbox: ``enqueue`` inside business transactions, ``flush()`` after commit, ``start``/``stop``.

    Build with ``await Outbox.builder(db)...build()``; the builder stores the partitions, so enqueueing works
    before ``start`` (delivery begins at ``start``).
    """

    def __init__(
        self, rt: Runtime, queues: Mapping[str, QueueSpec], partition_ids: Mapping[str, list[int]]
    ) -> None:
        self._rt = rt
        self._db = rt.db
        self._queues = dict(queues)
        self._partition_ids = {name: list(ids) for name, ids in partition_ids.items()}
        self._all_ids = {pid for ids in self._partition_ids.values() for pid in ids}
        self._dirty: set[int] = set()
        self._sequencer = Sequencer(rt.db, rt.gate, rt.stop, self._sequenced)
        self._processors: dict[int, Processor] = {}
        for name, spec in self._queues.items():
            for partition, pid in enumerate(self._partition_ids[name]):
                self._processors[pid] = Processor(rt, spec, partition, pid)
        self._tasks: list[asyncio.Task[Any]] = []
        self.dead_letters = DeadLetters(rt.db, rt.gate, self._requeued)

    @staticmethod
    def builder(db: Database) -> Any:
        from ._builder import OutboxBuilder

        return OutboxBuilder(db)

    @property
    def db(self) -> Database:
        return self._db

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def queues(self) -> dict[str, int]:
        """Registered queue names → partition counts."""
        return {name: spec.partitions for name, spec in self._queues.items()}

    def partition_id(self, queue: str, partition: int) -> int:
        return self._partition_ids[self._spec(queue).name][self._check_partition(queue, partition)]

    # -- enqueue -------------------------------------------------------------------------------------------

    async def enqueue(self, txn: Any, queue: str, partition: int, payload: Any, payload_type: str) -> None:
        """Adds one message inside the caller's transaction (``txn``: the ``Database`` or its current txn)."""
        await self.enqueue_batch(txn, queue, [(partition, payload, payload_type)])

    async def enqueue_batch(self, txn: Any, queue: str, items: Iterable[tuple[int, Any, str]]) -> None:
        """Adds ``(partition, payload, payload_type)`` items in order; all are validated before any insert."""
        ids = self._partition_ids.get(self._spec(queue).name, [])
        rows: list[tuple[int, bytes, str]] = []
        for partition, payload, payload_type in items:
            index = self._check_partition(queue, partition)
            rows.append((ids[index], encode_payload(payload), check_payload_type(payload_type)))
        if not rows:
            return
        if txn is self._db:
            async with self._db.transaction(write=True):
                await insert_messages(self._db, rows)
        else:
            if txn is None or self._db.engine.current_transaction.get() is not txn:
                raise OutboxStateError(
                    "enqueue must run inside the transaction it is given (or pass the Database)"
                )
            await insert_messages(self._db, rows)
        self._dirty.update(pid for pid, _, _ in rows)

    def flush(self) -> None:
        """Call after the business transaction committed: wakes the sequencer for the partitions enqueued to."""
        dirty, self._dirty = self._dirty, set()
        self._sequencer.mark_all(dirty)

    def _spec(self, queue: str) -> QueueSpec:
        spec = self._queues.get(queue) if isinstance(queue, str) else None
        if spec is None:
            raise UnknownQueue(f"queue {queue!r} is not registered with this outbox")
        return spec

    def _check_partition(self, queue: str, partition: int) -> int:
        n = self._spec(queue).partitions
        if isinstance(partition, bool) or not isinstance(partition, int) or not 0 <= partition < n:
            raise PartitionOutOfRange(f"partition {partition!r} of queue {queue!r} is outside 0..{n - 1}")
        return partition

    def _sequenced(self, partition_id: int) -> None:
        processor = self._processors.get(partition_id)
        if processor is not None:
            processor.wake()

    def _requeued(self, partition_ids: set[int]) -> None:
        self._sequencer.mark_all(partition_ids & self._all_ids)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the sequencer, reconciler, processors and vacuum (idempotent)."""
        if self._tasks:
            return
        self._rt.stop.reset()
        self._spawn(self._reconciler(), "outbox:reconciler")
        for i in range(WORKERS):
            self._spawn(self._sequencer.worker(), f"outbox:sequencer:{i}")
        self._spawn(self._sequencer_poll(), "outbox:sequencer-poll")
        for pid, processor in self._processors.items():
            self._spawn(processor.run(), f"outbox:{processor.spec.name}:{processor.partition}:{pid}")
        self._spawn(self._vacuum(), "outbox:vacuum")

    async def stop(self, timeout: float | None = None) -> None:
        """Cancels every worker and awaits them within ``timeout`` (default ``stop_timeout``).

        Leased work in flight is redelivered after its lease expires.
        """
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        self._rt.stop.stop()
        budget = self._rt.timings.stop_timeout if timeout is None else timeout
        _, pending = await asyncio.wait(tasks, timeout=budget)
        if pending:
            _log.warning("outbox_stop_timeout", pending=len(pending))
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1.0)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        # Workers must never inherit a caller's transaction (Piccolo keeps it in a ContextVar).
        context = contextvars.copy_context()
        context.run(self._db.engine.current_transaction.set, None)
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name, context=context))

    async def _reconciler(self) -> None:
        while True:
            try:
                await self._sequencer.reconcile(self._all_ids)
            except Exception as exc:
                _log.warning("outbox_reconcile_failed", error=repr(exc))
            await self._rt.stop.sleep(self._rt.timings.reconcile_interval)

    async def _sequencer_poll(self) -> None:
        """Covers a missed ``flush()``: locally enqueued partitions are sequenced within one poll interval."""
        while True:
            await self._rt.stop.sleep(self._rt.poll_interval)
            self.flush()

    async def _vacuum(self) -> None:
        while True:
            await self._rt.stop.sleep(self._rt.timings.vacuum_interval)
            try:
                await vacuum_once(self._db, self._rt.gate, self._all_ids)
            except Exception as exc:
                _log.warning("outbox_vacuum_failed", error=repr(exc))

    async def vacuum(self) -> int:
        """Runs one vacuum pass now; returns the number of delivered messages deleted."""
        return await vacuum_once(self._db, self._rt.gate, self._all_ids)

    # -- metrics (K-15.10 SHOULD) --------------------------------------------------------------------------

    async def metrics(self) -> dict[str, Any]:
        """Results per queue since start, dead-letter backlog and the oldest pending dead letter's age (s)."""
        ids = sorted(self._all_ids)
        row = await self._db.fetch_one(
            f"SELECT count(*) AS n, min(failed_at) AS oldest FROM {DEAD_LETTERS} "
            f"WHERE status = 'pending' AND partition_id IN ({placeholders(len(ids))})",
            *ids,
        )
        oldest = row["oldest"] if row else None
        results: dict[str, dict[str, int]] = {}
        for (queue, kind), count in self._rt.results.items():
            results.setdefault(queue, {})[kind] = count
        return {
            "results": results,
            "dead_letter_backlog": int(row["n"]) if row else 0,
            "oldest_pending_age_s": (now_us() - int(oldest)) / 1e6 if oldest is not None else None,
        }


async def register_queue(db: Database, spec: QueueSpec) -> list[int]:
    """Stores the queue's partitions (idempotent) and returns their ids in partition order."""
    async with db.transaction(write=True):
        if db.dialect == "postgres":
            # Concurrent registrations with different counts must not interleave their inserts.
            await db.execute("SELECT pg_advisory_xact_lock({})", advisory_key(f"fabrikit:outbox:{spec.name}"))
        rows = await db.fetch(
            f'SELECT id, "partition" FROM {PARTITIONS} WHERE queue = {{}} ORDER BY "partition"', spec.name
        )
        if rows and len(rows) != spec.partitions:
            raise PartitionCountMismatch(spec.name, len(rows), spec.partitions)
        if not rows:
            values = ", ".join(["({}, {}, 0)"] * spec.partitions)
            args: list[Any] = []
            for partition in range(spec.partitions):
                args.extend((spec.name, partition))
            await db.execute(
                f'INSERT INTO {PARTITIONS} (queue, "partition", sequence) VALUES {values} '
                'ON CONFLICT (queue, "partition") DO NOTHING',
                *args,
            )
            rows = await db.fetch(
                f'SELECT id, "partition" FROM {PARTITIONS} WHERE queue = {{}} ORDER BY "partition"', spec.name
            )
        ids = [int(r["id"]) for r in rows]
        for table, column in ((PROCESSOR, "processed_seq"), (VACUUM_COUNTER, "counter")):
            await db.execute(
                f"INSERT INTO {table} (partition_id, {column}) VALUES {', '.join(['({}, 0)'] * len(ids))} "
                "ON CONFLICT (partition_id) DO NOTHING",
                *ids,
            )
    if [int(r["partition"]) for r in rows] != list(range(spec.partitions)):
        raise PartitionCountMismatch(spec.name, len(rows), spec.partitions)
    return ids
