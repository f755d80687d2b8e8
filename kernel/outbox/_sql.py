"""Small SQL text helpers shared by the outbox workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fabrikit.kernel.db import Database


def placeholders(n: int) -> str:
    return ", ".join(["{}"] * n)


class WriteGate:
    """Serialises the outbox's own SQLite write transactions inside one process.

    SQLite allows one writer; without the gate the workers would meet in SQLite's busy handler, whose sleeps
    (up to 100 ms) dominate latency. PostgreSQL needs no gate.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = asyncio.Lock() if db.dialect == "sqlite" else None

    @asynccontextmanager
    async def write(self, *, relaxed: bool = False) -> AsyncIterator[Any]:
        """A write transaction. ``relaxed`` (PostgreSQL): commit without waiting for the WAL flush.

        Only for the outbox's own bookkeeping (sequencing, claims, acks, vacuum): a crash can lose just a
        suffix of such commits, which at worst redelivers messages — at-least-once still holds.
        """
        if self._lock is None:
            async with self._db.transaction(write=True) as txn:
                if relaxed:
                    await self._db.execute("SET LOCAL synchronous_commit TO OFF")
                yield txn
            return
        async with self._lock, self._db.transaction(write=True) as txn:
            yield txn
