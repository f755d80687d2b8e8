"""Per-partition processors: leased three-phase delivery (K-15.5) and transactional delivery (K-15.6)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import structlog

from ._clock import now_us, seconds_us, to_datetime
from ._dead_letters import insert_dead_letters
from ._handlers import Batch, OutboxMessage, Reject, Result, Retry, Success
from ._runtime import QueueSpec, Runtime
from ._tables import BODY, OUTGOING, PROCESSOR, VACUUM_COUNTER

_log = structlog.get_logger("fabrikit.outbox")

MAX_ATTEMPTS_ERROR = "max attempts exceeded"


class _LeaseLost(Exception):
    pass


class Processor:
    """Delivers one partition in seq order. ``wake()`` makes it look for work now; it also polls when idle."""

    def __init__(self, rt: Runtime, spec: QueueSpec, partition: int, partition_id: int) -> None:
        self.rt = rt
        self.spec = spec
        self.partition = partition
        self.partition_id = partition_id
        self.batch_size = rt.profile.batch_size
        self._consecutive_retries = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        stop = self.rt.stop
        eager = True  # skip the read-only peek when there is probably work (woken, or the last step worked)
        while True:
            self._wake.clear()
            try:
                async with stop.interruptible():
                    await self.rt.active.acquire()
                try:
                    delay = await self.step(peek=not eager)
                finally:
                    self.rt.active.release()
            except Exception as exc:  # worker errors are logged, never fatal (K-15.7)
                _log.warning(
                    "outbox_processor_failed", queue=self.spec.name, partition=self.partition, error=repr(exc)
                )
                delay = self.rt.poll_interval
            eager = delay == 0
            async with stop.interruptible():
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), delay)
                        eager = True
                    except TimeoutError:
                        pass

    async def step(self, peek: bool = True) -> float:
        """One delivery attempt; returns how long to wait before the next (0 = go on now)."""
        if peek:
            wait = await self._peek()
            if wait is not None:
                return wait
        if self.spec.mode == "transactional":
            return await self._transactional()
        return await self._leased()

    async def _peek(self) -> float | None:
        """Cheap read: ``None`` when there is claimable work, else the seconds to wait."""
        row = await self.rt.db.fetch_one(
            f"SELECT p.processed_seq, p.locked_until, (SELECT max(o.seq) FROM {OUTGOING} o "
            f"WHERE o.partition_id = p.partition_id) AS top FROM {PROCESSOR} p WHERE p.partition_id = {{}}",
            self.partition_id,
        )
        if row is None or row["top"] is None or int(row["top"]) <= int(row["processed_seq"]):
            return self.rt.poll_interval
        locked_until = row["locked_until"]
        now = now_us()
        if locked_until is not None and int(locked_until) >= now:
            return min((int(locked_until) - now) / 1e6 + 0.001, self.rt.poll_interval)
        return None

    async def _read_batch(self, processed_seq: int, attempts: int) -> list[OutboxMessage]:
        rows = await self.rt.db.fetch(
            f"SELECT o.seq, b.payload, b.payload_type, b.created_at FROM {OUTGOING} o "
            f"JOIN {BODY} b ON b.id = o.body_id WHERE o.partition_id = {{}} AND o.seq > {{}} "
            "ORDER BY o.seq LIMIT {}",
            self.partition_id,
            processed_seq,
            self.batch_size,
        )
        return [
            OutboxMessage(
                queue=self.spec.name,
                partition=self.partition,
                partition_id=self.partition_id,
                seq=int(r["seq"]),
                payload=bytes(r["payload"]),
                payload_type=r["payload_type"],
                created_at=to_datetime(r["created_at"]),  # type: ignore[arg-type]
                attempts=attempts,
            )
            for r in rows
        ]

    # -- leased -------------------------------------------------------------------------------------------

    async def _leased(self) -> float:
        db, lease = self.rt.db, self.spec.lease
        loop = asyncio.get_running_loop()
        lease_start = loop.time()
        me = f"{self.spec.name}-{secrets.token_hex(3)}"
        now = now_us()
        async with self.rt.gate.write(relaxed=True):
            claim = await db.fetch_one(
                f"UPDATE {PROCESSOR} SET locked_by = {{}}, locked_until = {{}}, attempts = attempts + 1 "
                "WHERE partition_id = {} AND (locked_until IS NULL OR locked_until < {}) "
                "RETURNING processed_seq, attempts",
                me,
                now + seconds_us(lease.duration),
                self.partition_id,
                now,
            )
            if claim is None:
                return self.rt.poll_interval
            processed_seq, attempts = int(claim["processed_seq"]), int(claim["attempts"])
            messages = await self._read_batch(processed_seq, attempts - 1)
            if not messages:
                await db.execute(
                    f"UPDATE {PROCESSOR} SET locked_by = NULL, locked_until = NULL, attempts = 0 "
                    "WHERE partition_id = {}",
                    self.partition_id,
                )
                return self.rt.poll_interval
        batch = Batch(messages, lease_start + lease.duration - lease.headroom)
        result = await self._call_leased(batch)
        try:
            return await self._ack(me, batch, result, processed_seq, attempts)
        except _LeaseLost:
            _log.warning("outbox_lease_lost", queue=self.spec.name, partition=self.partition, holder=me)
            self.rt.results[(self.spec.name, "lease_lost")] += 1
            return 0.0

    async def _call_leased(self, batch: Batch) -> Result:
        try:
            async with self.rt.stop.interruptible(), asyncio.timeout_at(batch.deadline) as scope:
                result = await self.spec.handler(batch)
        except TimeoutError:
            if scope.expired():
                return Retry("lease expired")
            return self._handler_error(TimeoutError("handler raised TimeoutError"))
        except Exception as exc:
            return self._handler_error(exc)
        if not isinstance(result, Success | Retry | Reject):
            return self._handler_error(TypeError(f"handler returned {type(result).__name__}, not a Result"))
        return result

    def _handler_error(self, exc: BaseException) -> Retry:
        _log.warning(
            "outbox_handler_failed", queue=self.spec.name, partition=self.partition, error=type(exc).__name__
        )
        return Retry(f"handler raised {type(exc).__name__}")

    async def _ack(self, me: str, batch: Batch, result: Result, processed_seq: int, attempts: int) -> float:
        db, messages = self.rt.db, batch.messages
        done = len(messages) if isinstance(result, Success) else min(batch.done, len(messages))
        rejects: list[tuple[OutboxMessage, str, int]] = [
            (m, reason, m.attempts + 1) for m, reason in batch.rejects
        ]
        prefix = done
        failures = attempts if done == 0 else 1
        if (
            isinstance(result, Retry)
            and self.spec.max_attempts is not None
            and failures >= self.spec.max_attempts
        ):
            rejects += [(m, MAX_ATTEMPTS_ERROR, failures) for m in messages[done:]]
            result, done = Reject(MAX_ATTEMPTS_ERROR), len(messages)
        elif isinstance(result, Reject):
            rejects += [(m, result.reason, m.attempts + 1) for m in messages[done:]]
            done = len(messages)
        new_seq = messages[done - 1].seq if done else processed_seq
        delay = 0.0
        async with self.rt.gate.write(relaxed=True):
            if isinstance(result, Retry):
                delay = self.rt.backoff(failures)
                guard = await db.fetch_one(
                    f"UPDATE {PROCESSOR} SET processed_seq = {{}}, attempts = {{}}, last_error = {{}}, "
                    "locked_by = NULL, locked_until = {} WHERE partition_id = {} AND locked_by = {} "
                    "RETURNING partition_id",
                    new_seq,
                    failures,
                    result.reason,
                    now_us() + seconds_us(delay),
                    self.partition_id,
                    me,
                )
            else:
                guard = await db.fetch_one(
                    f"UPDATE {PROCESSOR} SET processed_seq = {{}}, attempts = 0, last_error = NULL, "
                    "locked_by = NULL, locked_until = NULL WHERE partition_id = {} AND locked_by = {} "
                    "RETURNING partition_id",
                    new_seq,
                    self.partition_id,
                    me,
                )
            if guard is None:
                raise _LeaseLost
            await insert_dead_letters(db, rejects)
            if done:
                await db.execute(
                    f"UPDATE {VACUUM_COUNTER} SET counter = counter + {{}} WHERE partition_id = {{}}",
                    done,
                    self.partition_id,
                )
        self._adapt(result, prefix)
        self._count(result, rejects)
        return delay

    # -- transactional ------------------------------------------------------------------------------------

    async def _transactional(self) -> float:
        db = self.rt.db
        lock = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgres" else ""
        try:
            async with self.rt.gate.write() as txn:
                row = await db.fetch_one(
                    f"SELECT processed_seq, attempts, locked_until FROM {PROCESSOR} WHERE partition_id = {{}}{lock}",
                    self.partition_id,
                )
                now = now_us()
                if row is None:
                    return self.rt.poll_interval
                if row["locked_until"] is not None and int(row["locked_until"]) >= now:
                    return (int(row["locked_until"]) - now) / 1e6
                processed_seq, attempts = int(row["processed_seq"]), int(row["attempts"])
                messages = await self._read_batch(processed_seq, attempts)
                if not messages:
                    return self.rt.poll_interval
                loop = asyncio.get_running_loop()
                batch = Batch(messages, loop.time() + self.spec.lease.duration - self.spec.lease.headroom)
                async with asyncio.timeout_at(batch.deadline):
                    result = await self.spec.handler(txn, batch)
                if not isinstance(result, Success | Retry | Reject):
                    raise TypeError(f"handler returned {type(result).__name__}, not a Result")
                if isinstance(result, Retry):
                    if self.spec.max_attempts is not None and attempts + 1 >= self.spec.max_attempts:
                        result = Reject(MAX_ATTEMPTS_ERROR)
                    else:
                        return await self._txn_retry(attempts + 1, result.reason)
                rejects: list[tuple[OutboxMessage, str, int]] = []
                if isinstance(result, Reject):
                    rejects = [(m, result.reason, attempts + 1) for m in messages]
                    await insert_dead_letters(db, rejects)
                await db.execute(
                    f"UPDATE {PROCESSOR} SET processed_seq = {{}}, attempts = 0, last_error = NULL, "
                    "locked_until = NULL WHERE partition_id = {}",
                    messages[-1].seq,
                    self.partition_id,
                )
                await db.execute(
                    f"UPDATE {VACUUM_COUNTER} SET counter = counter + {{}} WHERE partition_id = {{}}",
                    len(messages),
                    self.partition_id,
                )
        except Exception as exc:
            # The handler's writes rolled back with the transaction; record the failure in a fresh one.
            self._handler_error(exc)
            async with self.rt.gate.write():
                row = await db.fetch_one(
                    f"SELECT attempts FROM {PROCESSOR} WHERE partition_id = {{}}", self.partition_id
                )
                return await self._txn_retry(
                    int(row["attempts"]) + 1 if row else 1, f"handler raised {type(exc).__name__}"
                )
        self._adapt(result, 0 if rejects else len(messages))
        self._count(result, rejects)
        return 0.0

    async def _txn_retry(self, failures: int, reason: str) -> float:
        delay = self.rt.backoff(failures)
        await self.rt.db.execute(
            f"UPDATE {PROCESSOR} SET attempts = {{}}, last_error = {{}}, locked_until = {{}} WHERE partition_id = {{}}",
            failures,
            reason,
            now_us() + seconds_us(delay),
            self.partition_id,
        )
        self._adapt(Retry(reason), 0)
        self._count(Retry(reason), [])
        return delay

    # -- bookkeeping --------------------------------------------------------------------------------------

    def _adapt(self, result: Result, done: int) -> None:
        """After 2 consecutive Retries or any Reject the batch shrinks to max(done, 1); it doubles per success."""
        if isinstance(result, Retry):
            self._consecutive_retries += 1
            if self._consecutive_retries >= 2:
                self.batch_size = max(done, 1)
            return
        self._consecutive_retries = 0
        if isinstance(result, Reject):
            self.batch_size = max(done, 1)
        else:
            self.batch_size = min(self.batch_size * 2, self.rt.profile.batch_size)

    def _count(self, result: Result, rejects: list[Any]) -> None:
        self.rt.results[(self.spec.name, type(result).__name__.lower())] += 1
        if rejects:
            self.rt.results[(self.spec.name, "dead_lettered")] += len(rejects)
