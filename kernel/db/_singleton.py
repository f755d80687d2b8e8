"""Singleton workers: at most one leader per module database runs the worker (K-16)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from ._database import Database
from ._keys import advisory_key

_log = structlog.get_logger("fabrikit.db")

LEASES_TABLE = "fabrikit_leases"


class _Lease(Protocol):
    async def try_acquire(self) -> bool: ...
    async def hold(self) -> None:
        """Returns when leadership is lost."""

    async def release(self) -> None: ...


class Singleton:
    """Runs ``coro_fn()`` only while this process leads ``name`` among all users of the module database.

    PostgreSQL: ``pg_try_advisory_lock(key("fabrikit:<module>:<name>"))`` on a dedicated connection held while
    leading (a lost connection is a lost lock). SQLite: a CAS-claimed row in ``fabrikit_leases`` renewed every
    ``ttl/3``. On loss the worker task is cancelled and the singleton contends again every ``retry_interval``.
    A worker that returns ends the singleton; one that raises is logged and re-run after re-contending.
    """

    def __init__(
        self,
        db: Database,
        module: str,
        name: str,
        coro_fn: Callable[[], Awaitable[Any]],
        ttl: float = 15.0,
        *,
        retry_interval: float = 5.0,
        holder: str | None = None,
    ) -> None:
        if ttl <= 0 or retry_interval <= 0:
            raise ValueError("ttl and retry_interval must be positive")
        self.db = db
        self.module = module
        self.name = name
        self.ttl = ttl
        self.retry_interval = retry_interval
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._coro_fn = coro_fn
        self._task: asyncio.Task[None] | None = None
        self._leader = False
        self._lease: _Lease = (
            _AdvisoryLease(db, f"fabrikit:{module}:{name}", check_interval=ttl / 3)
            if db.dialect == "postgres"
            else _RowLease(db, name, self.holder, ttl)
        )

    @property
    def is_leader(self) -> bool:
        return self._leader

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"singleton:{self.module}:{self.name}")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def run(self) -> None:
        while True:
            await self._acquire()
            self._leader = True
            _log.info("leader_acquired", module=self.module, singleton=self.name, holder=self.holder)
            try:
                outcome = await self._lead()
            finally:
                self._leader = False
                await asyncio.shield(self._release())
            if outcome == "done":
                return
            if outcome == "lost":
                _log.warning("leader_lost", module=self.module, singleton=self.name, holder=self.holder)
            await asyncio.sleep(self.retry_interval)

    async def _acquire(self) -> None:
        while not await self._try_acquire():  # noqa: ASYNC110 - polling the database is the point
            await asyncio.sleep(self.retry_interval)

    async def _try_acquire(self) -> bool:
        try:
            return await self._lease.try_acquire()
        except Exception as exc:
            _log.warning("leader_contend_failed", module=self.module, singleton=self.name, error=str(exc))
            return False

    async def _release(self) -> None:
        try:
            await self._lease.release()
        except Exception as exc:
            _log.warning("leader_release_failed", module=self.module, singleton=self.name, error=str(exc))

    async def _lead(self) -> str:
        worker = asyncio.create_task(_call(self._coro_fn), name=f"singleton-worker:{self.module}:{self.name}")
        keeper = asyncio.create_task(self._lease.hold(), name=f"singleton-lease:{self.module}:{self.name}")
        try:
            done, _ = await asyncio.wait({worker, keeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (worker, keeper):
                if not task.done():
                    task.cancel()
            await asyncio.gather(worker, keeper, return_exceptions=True)
        if worker in done and not worker.cancelled():
            error = worker.exception()
            if error is None:
                return "done"
            _log.error("singleton_worker_failed", module=self.module, singleton=self.name, error=repr(error))
            return "failed"
        return "lost"


async def _call(coro_fn: Callable[[], Awaitable[Any]]) -> None:
    await coro_fn()


class _AdvisoryLease:
    def __init__(self, db: Database, key_text: str, *, check_interval: float) -> None:
        self.db = db
        self.key = advisory_key(key_text)
        self.check_interval = check_interval
        self.connection: Any = None

    async def try_acquire(self) -> bool:
        connection = await self.db.engine.get_new_connection()  # type: ignore[attr-defined]
        try:
            locked = await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key)
        except BaseException:
            await connection.close()
            raise
        if not locked:
            await connection.close()
            return False
        self.connection = connection
        return True

    async def hold(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            if self.connection is None or self.connection.is_closed():
                return
            try:
                await asyncio.wait_for(
                    self.connection.fetchval("SELECT 1"), timeout=max(self.check_interval, 1.0)
                )
            except Exception:
                return

    async def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            if not connection.is_closed():
                await connection.execute("SELECT pg_advisory_unlock($1)", self.key)
        finally:
            await connection.close()


class _RowLease:
    def __init__(self, db: Database, name: str, holder: str, ttl: float) -> None:
        self.db = db
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.expires_at = 0.0
        self._table_ready = False

    async def _ensure_table(self) -> None:
        if not self._table_ready:
            await self.db.run_ddl(
                f"CREATE TABLE IF NOT EXISTS {LEASES_TABLE} "
                "(name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL)"
            )
            self._table_ready = True

    async def try_acquire(self) -> bool:
        await self._ensure_table()
        now = time.time()
        expires = now + self.ttl
        async with self.db.transaction(write=True):
            await self.db.execute(
                f"INSERT INTO {LEASES_TABLE} (name, holder, expires_at) VALUES ({{}}, {{}}, {{}}) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
                f"WHERE {LEASES_TABLE}.expires_at < {{}} OR {LEASES_TABLE}.holder = {{}}",
                self.name,
                self.holder,
                expires,
                now,
                self.holder,
            )
            row = await self.db.fetch_one(f"SELECT holder FROM {LEASES_TABLE} WHERE name = {{}}", self.name)
        if row is not None and row["holder"] == self.holder:
            self.expires_at = expires
            return True
        return False

    async def hold(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                if not await self._renew():
                    return
            except Exception:
                # A transient failure (e.g. a long-held write lock) keeps the lease until it actually expires.
                if time.time() >= self.expires_at:
                    return

    async def _renew(self) -> bool:
        expires = time.time() + self.ttl
        async with self.db.transaction(write=True):
            await self.db.execute(
                f"UPDATE {LEASES_TABLE} SET expires_at = {{}} WHERE name = {{}} AND holder = {{}}",
                expires,
                self.name,
                self.holder,
            )
            row = await self.db.fetch_one(f"SELECT holder FROM {LEASES_TABLE} WHERE name = {{}}", self.name)
        if row is None or row["holder"] != self.holder:
            return False
        self.expires_at = expires
        return True

    async def release(self) -> None:
        async with self.db.transaction(write=True):
            await self.db.execute(
                f"DELETE FROM {LEASES_TABLE} WHERE name = {{}} AND holder = {{}}", self.name, self.holder
            )
