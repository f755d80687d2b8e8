"""K-15 outbox benchmark: messages/s from enqueue (committed in batches) to handler ack, and the delay from
commit to handler (p50/p99), on SQLite and PostgreSQL with 4 partitions.

Two legs per engine: ``throughput`` (profile ``high_throughput``, batches of 100 per commit) and ``latency``
(profile ``low_latency``, one message per commit at a steady pace). PostgreSQL comes from
``FABRIKIT_TEST_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``; a scratch database is created
and dropped). Run: ``.venv/bin/python bench/outbox.py``. The last line is one JSON object for CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from fabrikit.kernel.db import Database, open_database, redact_dsn, resolve_db_settings, run_migrations
from fabrikit.kernel.outbox import Batch, Outbox, Result, Success, outbox_migration

PARTITIONS = 4
THROUGHPUT_MESSAGES = {"sqlite": 4000, "postgres": 8000}
COMMIT_BATCH = 100
LATENCY_MESSAGES = 300
LATENCY_PACE = 0.02
TARGETS = {"postgres": 1000.0, "sqlite": 500.0}
P50_TARGET_MS = 50.0


class Probe(msgspec.Struct, array_like=True):
    n: int


class Leg(msgspec.Struct):
    engine: str
    leg: str
    messages: int
    seconds: float
    msg_s: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_leg(db: Database, engine: str, leg: str) -> Leg:
    total = THROUGHPUT_MESSAGES[engine] if leg == "throughput" else LATENCY_MESSAGES
    committed = [0.0] * total
    received = [0.0] * total
    done = asyncio.Event()
    seen = 0

    async def handler(batch: Batch) -> Result:
        nonlocal seen
        now = time.perf_counter()
        for message in batch:
            received[msgspec.json.decode(message.payload, type=Probe).n] = now
        seen += len(batch)
        if seen >= total:
            done.set()
        return Success()

    queue = f"bench-{leg}"
    profile = "high_throughput" if leg == "throughput" else "low_latency"
    outbox = (
        await Outbox.builder(db).profile(profile).queue(queue, partitions=PARTITIONS, handler=handler).build()
    )
    await outbox.start()
    started = time.perf_counter()
    try:
        if leg == "throughput":
            for first in range(0, total, COMMIT_BATCH):
                items = [
                    (i % PARTITIONS, Probe(i), "bench.probe") for i in range(first, first + COMMIT_BATCH)
                ]
                async with db.transaction(write=True) as txn:
                    await outbox.enqueue_batch(txn, queue, items)
                now = time.perf_counter()
                for i in range(first, first + COMMIT_BATCH):
                    committed[i] = now
                outbox.flush()
        else:
            for i in range(total):
                async with db.transaction(write=True) as txn:
                    await outbox.enqueue(txn, queue, i % PARTITIONS, Probe(i), "bench.probe")
                committed[i] = time.perf_counter()
                outbox.flush()
                await asyncio.sleep(LATENCY_PACE)
        await asyncio.wait_for(done.wait(), 300)
        # Acked: every partition's cursor reached its last message.
        while True:
            row = await db.fetch_one(
                "SELECT sum(processed_seq) AS n FROM modkit_outbox_processor WHERE partition_id IN "
                f"({', '.join(str(outbox.partition_id(queue, p)) for p in range(PARTITIONS))})"
            )
            if row and int(row["n"] or 0) >= total:
                break
            await asyncio.sleep(0.002)
        seconds = time.perf_counter() - started
    finally:
        await outbox.stop()
    delays = [(r - c) * 1000 for r, c in zip(received, committed, strict=True)]
    return Leg(
        engine, leg, total, seconds, total / seconds, percentile(delays, 0.5), percentile(delays, 0.99)
    )


async def engine_legs(engine: str, settings_block: dict[str, object] | None, home: Path) -> list[Leg]:
    module = f"bench-{uuid.uuid4().hex[:8]}"
    db = await open_database(module, resolve_db_settings(module, settings_block, {}, None, home))
    try:
        await run_migrations(db, module, [outbox_migration()], fabrikit_version="bench")
        return [await run_leg(db, engine, "throughput"), await run_leg(db, engine, "latency")]
    finally:
        await db.close()


async def admin(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def main() -> int:
    legs: list[Leg] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as home:
        legs += await engine_legs("sqlite", None, Path(home))
    dsn = os.environ.get("FABRIKIT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"fabrikit_bench_{uuid.uuid4().hex[:8]}"
    try:
        await admin(dsn, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        notes.append(f"PostgreSQL unreachable at {redact_dsn(dsn)} ({type(exc).__name__}); SQLite leg only")
    else:
        try:
            scratch = urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))
            with tempfile.TemporaryDirectory() as home:
                legs += await engine_legs("postgres", {"dsn": scratch, "pool": {"max_size": 10}}, Path(home))
        finally:
            await admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(
        f"{'engine':<9} {'leg':<11} {'messages':>8} {'seconds':>8} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for leg in legs:
        print(
            f"{leg.engine:<9} {leg.leg:<11} {leg.messages:>8} {leg.seconds:>8.2f} {leg.msg_s:>8.0f} "
            f"{leg.p50_ms:>8.1f} {leg.p99_ms:>8.1f}"
        )
    for note in notes:
        print(note)
    by = {(leg.engine, leg.leg): leg for leg in legs}
    pg_t, pg_l = by.get(("postgres", "throughput")), by.get(("postgres", "latency"))
    sq_t, sq_l = by[("sqlite", "throughput")], by[("sqlite", "latency")]
    ok = sq_t.msg_s >= TARGETS["sqlite"] and sq_l.p50_ms <= P50_TARGET_MS
    if pg_t is not None and pg_l is not None:
        ok = ok and pg_t.msg_s >= TARGETS["postgres"] and pg_l.p50_ms <= P50_TARGET_MS
    else:
        ok = False
    print(
        f"targets: PostgreSQL >= {TARGETS['postgres']:.0f} msg/s, SQLite >= {TARGETS['sqlite']:.0f} msg/s, "
        f"low_latency p50 <= {P50_TARGET_MS:.0f} ms -> {'met' if ok else 'MISSED'}"
    )
    result = {
        "bench": "outbox",
        "metric": "throughput",
        "value": round(pg_t.msg_s, 1) if pg_t else None,
        "unit": "msg/s",
        "target": TARGETS["postgres"],
        "ok": ok,
        "sqlite_msg_s": round(sq_t.msg_s, 1),
        "pg_p50_ms": round(pg_l.p50_ms, 2) if pg_l else None,
        "sqlite_p50_ms": round(sq_l.p50_ms, 2),
    }
    if pg_t is None:
        result["note"] = notes[0] if notes else "PostgreSQL leg missing"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
