"""K-15.10: two real OS processes on PostgreSQL share one queue: no message is handled concurrently twice,
together they handle everything, and each partition stays in order."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from fabrikit.kernel.db import open_database, resolve_db_settings, run_migrations
from fabrikit.kernel.outbox import Batch, Outbox, Result, Success, outbox_migration

from . import pg_consumer
from .conftest import wait_until

TOTAL = 400


def _spawn(dsn: str, module: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, str(Path(pg_consumer.__file__)), dsn, module],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_two_processes_share_a_queue(pg_session_dsn: str, tmp_path: Path, module_name: str) -> None:
    db = await open_database(
        module_name, resolve_db_settings(module_name, {"dsn": pg_session_dsn}, {}, None, tmp_path)
    )
    await run_migrations(db, module_name, [outbox_migration()], fabrikit_version="test")
    await db.run_ddl("CREATE TABLE inflight (key TEXT PRIMARY KEY, pid INTEGER NOT NULL)")
    await db.run_ddl("CREATE TABLE ready (pid INTEGER NOT NULL)")
    await db.run_ddl("CREATE TABLE violations (key TEXT NOT NULL, pid INTEGER NOT NULL)")
    await db.run_ddl(
        "CREATE TABLE handled (id BIGSERIAL PRIMARY KEY, pid INTEGER, partition_no INTEGER, seq BIGINT)"
    )

    async def unused(batch: Batch) -> Result:
        return Success()

    producer = await (
        Outbox.builder(db).queue(pg_consumer.QUEUE, partitions=pg_consumer.PARTITIONS, handler=unused).build()
    )
    procs = [_spawn(pg_session_dsn, module_name, tmp_path / f"child{i}.log") for i in range(2)]
    try:

        async def both_ready() -> bool:
            assert all(p.poll() is None for p in procs), "a consumer died"
            return len(await db.fetch("SELECT pid FROM ready")) == 2

        await wait_until(both_ready, timeout=60)
        # The producer never starts: the consumers' reconcilers find and sequence its rows.
        for start in range(0, TOTAL, 50):
            async with db.transaction(write=True) as txn:
                await producer.enqueue_batch(
                    txn,
                    pg_consumer.QUEUE,
                    [(i % pg_consumer.PARTITIONS, {"n": i}, "n") for i in range(start, start + 50)],
                )

        async def all_handled() -> bool:
            assert all(p.poll() is None for p in procs), "a consumer died"
            row = await db.fetch_one("SELECT count(DISTINCT (partition_no, seq)) AS n FROM handled")
            return row is not None and row["n"] == TOTAL

        await wait_until(all_handled, timeout=90)
        rows = await db.fetch("SELECT pid, partition_no, seq FROM handled ORDER BY id")
        violations = await db.fetch("SELECT * FROM violations")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=30)
        await db.close()
    assert violations == []
    by_partition: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_partition[row["partition_no"]].append(row["seq"])
    for partition in range(pg_consumer.PARTITIONS):
        seqs = by_partition[partition]
        assert sorted(set(seqs)) == list(range(1, TOTAL // pg_consumer.PARTITIONS + 1))
        assert seqs == sorted(seqs), "per-partition order broken"
    assert {row["pid"] for row in rows} == {p.pid for p in procs}, "both processes should take part"
