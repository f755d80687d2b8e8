"""Vacuum: deletes delivered outgoing and body rows (K-15.8). Delivery itself never deletes."""

from __future__ import annotations

import structlog

from fabrikit.kernel.db import Database

from ._sql import WriteGate, placeholders
from ._tables import BODY, OUTGOING, PROCESSOR, VACUUM_COUNTER

_log = structlog.get_logger("fabrikit.outbox")

CHUNK = 1000


async def vacuum_once(db: Database, gate: WriteGate, partition_ids: set[int]) -> int:
    """One pass over partitions with ``counter > 0``; returns the number of outgoing rows deleted."""
    if not partition_ids:
        return 0
    ids = sorted(partition_ids)
    rows = await db.fetch(
        f"SELECT partition_id FROM {VACUUM_COUNTER} WHERE counter > 0 AND partition_id IN ({placeholders(len(ids))})",
        *ids,
    )
    deleted = 0
    for row in rows:
        try:
            deleted += await _vacuum_partition(db, gate, int(row["partition_id"]))
        except Exception as exc:  # logged, never fatal (K-15.7)
            _log.warning("outbox_vacuum_failed", partition_id=row["partition_id"], error=repr(exc))
    return deleted


async def _vacuum_partition(db: Database, gate: WriteGate, partition_id: int) -> int:
    lock = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgres" else ""
    deleted = 0
    async with gate.write(relaxed=True):
        # Holding the counter row keeps a second vacuum (another process) off this partition.
        counter_row = await db.fetch_one(
            f"SELECT counter FROM {VACUUM_COUNTER} WHERE partition_id = {{}}{lock}", partition_id
        )
        if counter_row is None or int(counter_row["counter"]) <= 0:
            return 0
        counter = int(counter_row["counter"])
        state = await db.fetch_one(
            f"SELECT processed_seq FROM {PROCESSOR} WHERE partition_id = {{}}", partition_id
        )
        processed_seq = int(state["processed_seq"]) if state else 0
        while True:
            batch = await db.fetch(
                f"SELECT id, body_id FROM {OUTGOING} WHERE partition_id = {{}} AND seq <= {{}} "
                f"ORDER BY seq LIMIT {CHUNK}",
                partition_id,
                processed_seq,
            )
            if not batch:
                break
            out_ids = [int(r["id"]) for r in batch]
            body_ids = [int(r["body_id"]) for r in batch]
            await db.execute(f"DELETE FROM {OUTGOING} WHERE id IN ({placeholders(len(out_ids))})", *out_ids)
            await db.execute(f"DELETE FROM {BODY} WHERE id IN ({placeholders(len(body_ids))})", *body_ids)
            deleted += len(batch)
            if len(batch) < CHUNK:
                break
        await db.execute(
            f"UPDATE {VACUUM_COUNTER} SET counter = counter - {{}} WHERE partition_id = {{}}",
            counter,
            partition_id,
        )
    return deleted
