"""Dead letters: storage and the operator API ``handle.dead_letters`` (K-15.9).

Status machine: ``pending → reprocessing → resolved | pending`` (a failed replay adds an attempt) and
``pending → discarded``. Nothing replays automatically; ``replay`` claims rows with a ``deadline`` and claims
whose deadline passed can be claimed again.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from fabrikit.kernel.db import Database

from ._clock import now_us, seconds_us, to_datetime
from ._enqueue import insert_messages
from ._handlers import OutboxMessage
from ._sql import WriteGate, placeholders
from ._tables import DEAD_LETTERS, PARTITIONS

STATUSES = ("pending", "reprocessing", "resolved", "discarded")


class DeadLetter(msgspec.Struct, frozen=True):
    id: int
    queue: str
    partition: int
    partition_id: int
    seq: int
    payload: bytes
    payload_type: str
    created_at: datetime
    failed_at: datetime
    status: str
    last_error: str | None
    attempts: int
    deadline: datetime | None


async def insert_dead_letters(db: Database, items: Sequence[tuple[OutboxMessage, str, int]]) -> None:
    """Stores ``(message, error, attempts)`` as pending dead letters in the current transaction."""
    if not items:
        return
    failed = now_us()
    args: list[Any] = []
    for message, error, attempts in items:
        created = int(message.created_at.timestamp() * 1_000_000)
        args.extend(
            (
                message.partition_id,
                message.seq,
                message.payload,
                message.payload_type,
                created,
                failed,
                error,
                attempts,
            )
        )
    values = ", ".join(["({}, {}, {}, {}, {}, {}, 'pending', {}, {})"] * len(items))
    await db.execute(
        f"INSERT INTO {DEAD_LETTERS} (partition_id, seq, payload, payload_type, created_at, failed_at, status, "
        f"last_error, attempts) VALUES {values}",
        *args,
    )


def _row(row: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        id=int(row["id"]),
        queue=row["queue"],
        partition=int(row["partition"]),
        partition_id=int(row["partition_id"]),
        seq=int(row["seq"]),
        payload=bytes(row["payload"]),
        payload_type=row["payload_type"],
        created_at=to_datetime(row["created_at"]),  # type: ignore[arg-type]
        failed_at=to_datetime(row["failed_at"]),  # type: ignore[arg-type]
        status=row["status"],
        last_error=row["last_error"],
        attempts=int(row["attempts"]),
        deadline=to_datetime(row["deadline"]),
    )


_SELECT = (
    f'SELECT d.*, p.queue AS queue, p."partition" AS "partition" FROM {DEAD_LETTERS} d '
    f"JOIN {PARTITIONS} p ON p.id = d.partition_id"
)


def _filters(
    queue: str | None, partition: int | None, payload_type: str | None
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for clause, value in (
        ("p.queue = {}", queue),
        ('p."partition" = {}', partition),
        ("d.payload_type = {}", payload_type),
    ):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return clauses, args


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown dead-letter status {status!r}; expected one of {STATUSES}")


class DeadLetters:
    """Operator access to dead letters; every method is its own transaction."""

    def __init__(self, db: Database, gate: WriteGate, on_requeued: Callable[[set[int]], None]) -> None:
        self._db = db
        self._gate = gate
        self._on_requeued = on_requeued

    async def list(
        self,
        queue: str | None = None,
        partition: int | None = None,
        payload_type: str | None = None,
        status: str | None = "pending",
        limit: int = 100,
    ) -> builtins.list[DeadLetter]:
        """Dead letters in id order; ``status=None`` lists every status."""
        _check_status(status)
        clauses, args = _filters(queue, partition, payload_type)
        if status is not None:
            clauses.append("d.status = {}")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._db.fetch(f"{_SELECT}{where} ORDER BY d.id LIMIT {{}}", *args, int(limit))
        return [_row(r) for r in rows]

    async def count(
        self,
        queue: str | None = None,
        partition: int | None = None,
        payload_type: str | None = None,
        status: str | None = "pending",
    ) -> int:
        _check_status(status)
        clauses, args = _filters(queue, partition, payload_type)
        if status is not None:
            clauses.append("d.status = {}")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        row = await self._db.fetch_one(
            f"SELECT count(*) AS n FROM {DEAD_LETTERS} d JOIN {PARTITIONS} p ON p.id = d.partition_id{where}",
            *args,
        )
        return int(row["n"]) if row else 0

    async def replay(
        self,
        queue: str | None = None,
        partition: int | None = None,
        payload_type: str | None = None,
        *,
        limit: int = 100,
        timeout: float | timedelta = 60.0,
    ) -> builtins.list[DeadLetter]:
        """Claims pending (or expired reprocessing) dead letters for ``timeout`` and returns them.

        Settle each with ``resolve`` or ``reject`` before the deadline; an unsettled claim becomes claimable again.
        """
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        now = now_us()
        clauses, args = _filters(queue, partition, payload_type)
        clauses.append("(d.status = 'pending' OR (d.status = 'reprocessing' AND d.deadline < {}))")
        args.append(now)
        lock = " FOR UPDATE OF d SKIP LOCKED" if self._db.dialect == "postgres" else ""
        async with self._gate.write():
            ids = [
                int(r["id"])
                for r in await self._db.fetch(
                    f"SELECT d.id FROM {DEAD_LETTERS} d JOIN {PARTITIONS} p ON p.id = d.partition_id "
                    f"WHERE {' AND '.join(clauses)} ORDER BY d.id LIMIT {{}}{lock}",
                    *args,
                    int(limit),
                )
            ]
            if not ids:
                return []
            await self._db.execute(
                f"UPDATE {DEAD_LETTERS} SET status = 'reprocessing', deadline = {{}} "
                f"WHERE id IN ({placeholders(len(ids))})",
                now + seconds_us(seconds),
                *ids,
            )
            rows = await self._db.fetch(
                f"{_SELECT} WHERE d.id IN ({placeholders(len(ids))}) ORDER BY d.id", *ids
            )
        return [_row(r) for r in rows]

    async def resolve(self, ids: Sequence[int]) -> int:
        """``reprocessing → resolved``; returns how many changed."""
        return await self._transition(ids, "status = 'resolved', deadline = NULL", "status = 'reprocessing'")

    async def reject(self, ids: Sequence[int], error: str) -> int:
        """``reprocessing → pending`` with one more attempt and the new error."""
        return await self._transition(
            ids,
            "status = 'pending', deadline = NULL, attempts = attempts + 1, last_error = {}, failed_at = {}",
            "status = 'reprocessing'",
            error,
            now_us(),
        )

    async def discard(self, ids: Sequence[int]) -> int:
        """``pending → discarded``."""
        return await self._transition(ids, "status = 'discarded', deadline = NULL", "status = 'pending'")

    async def requeue(self, ids: Sequence[int]) -> int:
        """Enqueues pending or reprocessing dead letters again (same queue and partition), marks them resolved."""
        if not ids:
            return 0
        ids = [int(i) for i in ids]
        async with self._gate.write():
            rows = await self._db.fetch(
                f"SELECT id, partition_id, payload, payload_type FROM {DEAD_LETTERS} "
                f"WHERE id IN ({placeholders(len(ids))}) AND status IN ('pending', 'reprocessing') ORDER BY id",
                *ids,
            )
            if not rows:
                return 0
            await insert_messages(
                self._db, [(int(r["partition_id"]), bytes(r["payload"]), r["payload_type"]) for r in rows]
            )
            await self._db.execute(
                f"UPDATE {DEAD_LETTERS} SET status = 'resolved', deadline = NULL "
                f"WHERE id IN ({placeholders(len(rows))})",
                *[r["id"] for r in rows],
            )
        self._on_requeued({int(r["partition_id"]) for r in rows})
        return len(rows)

    async def cleanup(self, older_than: float | timedelta) -> int:
        """Deletes resolved and discarded dead letters that failed more than ``older_than`` ago."""
        seconds = older_than.total_seconds() if isinstance(older_than, timedelta) else float(older_than)
        async with self._gate.write():
            rows = await self._db.fetch(
                f"DELETE FROM {DEAD_LETTERS} WHERE status IN ('resolved', 'discarded') AND failed_at < {{}} "
                "RETURNING id",
                now_us() - seconds_us(seconds),
            )
        return len(rows)

    async def _transition(self, ids: Sequence[int], assignments: str, guard: str, *values: Any) -> int:
        if not ids:
            return 0
        ids = [int(i) for i in ids]
        async with self._gate.write():
            rows = await self._db.fetch(
                f"UPDATE {DEAD_LETTERS} SET {assignments} WHERE {guard} AND id IN ({placeholders(len(ids))}) "
                "RETURNING id",
                *values,
                *ids,
            )
        return len(rows)
