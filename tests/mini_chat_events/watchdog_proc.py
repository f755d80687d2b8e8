"""One "server process" running mini-chat's orphan watchdog against a shared PostgreSQL schema (CI-14, T19.07).

``python -m tests.mini_chat_events.watchdog_proc <dsn> <module> <mode> <seconds>``; ``mode`` is ``singleton``
(the production path: only the ``orphan-watchdog`` leader scans) or ``race`` (every process scans: only the
finalizer's CAS keeps each orphan single). Prints ``{"won": n, "leader": bool}`` as the last line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from fabrikit.kernel.db import Singleton, open_database, resolve_db_settings
from fabrikit.kernel.outbox import Outbox, Success
from fabrikit.modules.mini_chat.config import MiniChatConfig, OrphanWatchdogConfig
from fabrikit.modules.mini_chat.domain.finalizer import Finalizer
from fabrikit.modules.mini_chat.infra.background import WATCHDOG_ROLE
from fabrikit.modules.mini_chat.infra.clock import SystemClock
from fabrikit.modules.mini_chat.infra.outbox import QUEUES, OutboxEnqueuer, register_queues
from fabrikit.modules.mini_chat.infra.store import DbStore
from fabrikit.modules.mini_chat.infra.watchdog import OrphanWatchdog

CONFIG = MiniChatConfig(orphan_watchdog=OrphanWatchdogConfig(timeout_seconds=1, scan_interval_seconds=0.1))


async def _noop(batch: Any) -> Any:
    return Success()


async def main(dsn: str, module: str, mode: str, seconds: float) -> dict[str, Any]:
    db = await open_database(
        module, resolve_db_settings(module, {"dsn": dsn, "pool": {"max_size": 4}}, {}, None, "/tmp")
    )
    try:
        # Enqueue-only outbox: the events stay in the database for the parent test to deliver and count.
        outbox = await register_queues(Outbox.builder(db), CONFIG, {q: _noop for q in QUEUES}).build()
        store, clock = DbStore(db), SystemClock()
        finalizer = Finalizer(store, OutboxEnqueuer(outbox, CONFIG.outbox.num_partitions), clock, CONFIG)
        watchdog = OrphanWatchdog(db, store, finalizer, CONFIG, clock)
        won = 0

        async def scan_forever() -> None:
            nonlocal won
            while True:
                won += await watchdog.scan_once()
                await asyncio.sleep(CONFIG.orphan_watchdog.scan_interval_seconds)

        leader = False
        if mode == "singleton":
            worker = Singleton(db, module, WATCHDOG_ROLE, scan_forever, ttl=15, retry_interval=0.1)
            task = worker.start()
            await asyncio.sleep(seconds)
            leader = worker.is_leader
            await worker.stop()
            del task
        else:
            runner = asyncio.create_task(scan_forever())
            await asyncio.sleep(seconds)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        return {"won": won, "leader": leader}
    finally:
        await db.close()


if __name__ == "__main__":
    dsn, module, mode, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    print(json.dumps(asyncio.run(main(dsn, module, mode, seconds))))
