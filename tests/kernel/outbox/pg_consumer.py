"""A consumer process for the multi-process test (run as a script).

``python pg_consumer.py <dsn> <module>`` consumes queue ``mp`` (16 partitions: more than the 4 processors a
process runs at once, so two processes naturally share the partitions) and records its pid in ``ready``. Its handler claims the message
key in ``inflight`` (PRIMARY KEY: a concurrent second holder would fail), records ``handled`` and releases.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fabrikit.kernel.db import open_database, resolve_db_settings
from fabrikit.kernel.outbox import Outbox, OutboxMessage, Result, Success, per_message

QUEUE, PARTITIONS = "mp", 16


async def main(dsn: str, module: str) -> None:
    db = await open_database(module, resolve_db_settings(module, {"dsn": dsn}, {}, None, Path(".")))
    pid = os.getpid()

    async def handle(message: OutboxMessage) -> Result:
        try:
            await db.execute("INSERT INTO inflight (key, pid) VALUES ({}, {})", message.key, pid)
        except Exception:
            await db.execute("INSERT INTO violations (key, pid) VALUES ({}, {})", message.key, pid)
            raise
        await asyncio.sleep(0.002)
        await db.execute(
            "INSERT INTO handled (pid, partition_no, seq) VALUES ({}, {}, {})",
            pid,
            message.partition,
            message.seq,
        )
        await db.execute("DELETE FROM inflight WHERE key = {}", message.key)
        return Success()

    outbox = await (
        Outbox.builder(db)
        .profile("default")
        .queue(QUEUE, partitions=PARTITIONS, handler=per_message(handle))
        .timings(poll_interval=0.05, reconcile_interval=0.2, backoff_base=0.01, backoff_max=0.05)
        .build()
    )
    await outbox.start()
    await db.execute("INSERT INTO ready (pid) VALUES ({})", pid)
    try:
        await asyncio.Event().wait()
    finally:
        await outbox.stop()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
