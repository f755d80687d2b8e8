"""The SQLite engine: pragmas on every connection (K-14.3), statements run on the event loop, one write gate.

Piccolo's stock engine opens a new ``aiosqlite`` connection (a new thread, a file open, the pragmas) for every
query outside a transaction and for every transaction, and repeats ``PRAGMA foreign_keys`` before every statement
inside one. Even on a kept connection each statement is a round trip to a worker thread (~0.2 ms: two thread
wake-ups and an event-loop turn), while the point lookups and single-row writes of a request take 10–50 µs in
SQLite itself. So statements run synchronously on the loop, on two long-lived connections opened with
``busy_timeout = 0``: one for reads outside a transaction, one for the writer. Nothing on them ever sleeps in
SQLite's busy handler: SQLITE_BUSY (another process holds the lock, a WAL recovery) is retried by an async poll
until the configured ``busy_timeout`` is spent, then raised as usual ("database is locked").

SQLite admits one writer. Write transactions (``BEGIN IMMEDIATE``) and writing statements outside a transaction
queue on an ``asyncio.Lock`` (FIFO, no polling) and then own the writer connection; since their statements do not
await, the lock is held for microseconds plus whatever the caller awaits inside its transaction. Waiting on the
gate is bounded by ``busy_timeout`` as well, so a task waiting on a writer which waits on it fails as it would in
SQLite. Read-only (deferred) transactions keep a pooled ``aiosqlite`` connection of their own for their snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from ._settings import SqlitePragmas

# Pooled (threaded) connections for read-only transactions at once. More threads only fight over the GIL on a
# 2-core machine: 50 concurrent point reads took ~35 ms with a connection each, ~8–13 ms through 2–3.
MAX_READERS = 3
_READ_PREFIXES = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")
# SQLITE_BUSY on a loop connection: poll again after this long (the gate keeps in-process writers apart, so this
# is only ever another process or a WAL recovery).
_BUSY_POLL_SECONDS = 0.002
# The loop writer never checkpoints itself (a checkpoint syncs the files: 10–30 ms with the loop blocked, every
# ~1000 WAL pages, which was most of the p99 of a request). Every this many commits a PASSIVE checkpoint (it
# blocks no reader and no writer) runs on a worker thread instead. Under a steady write load it never finds the WAL
# fully copied, so the WAL would never restart: past ``WAL_RESET_PAGES`` one more checkpoint runs holding the write
# gate (writers queue, the loop runs on); it only copies what arrived since the previous one.
CHECKPOINT_EVERY_COMMITS = 64
WAL_RESET_PAGES = 1000


def _is_read(query: str) -> bool:
    return query.lstrip()[:7].upper().startswith(_READ_PREFIXES)


class PragmaSQLiteEngine(SQLiteEngine):
    """SQLite engine applying the module's pragmas on every connection it opens (K-14.3), pooled and gated."""

    def __init__(self, path: str, pragmas: SqlitePragmas) -> None:
        self.pragmas = pragmas
        self._idle: list[aiosqlite.Connection] = []
        self._readers = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._discarding: set[asyncio.Task[None]] = set()
        self._closed = False
        self._gate_loop: asyncio.AbstractEventLoop | None = None
        self._gate_lock: asyncio.Lock | None = None
        self._loop_reader: sqlite3.Connection | None = None
        self._loop_writer: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint_task: asyncio.Future[None] | None = None
        self._commits = 0
        super().__init__(path=path)

    async def check_version(self) -> None:
        return None

    # -- connections ----------------------------------------------------------------------------------------

    async def get_connection(self) -> aiosqlite.Connection:
        """A new connection with the pragmas applied (the caller closes it)."""
        pending = aiosqlite.connect(**self.connection_kwargs)
        # A connection left unclosed must not keep the interpreter alive at exit.
        pending._thread.daemon = True
        connection = await pending
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            # busy_timeout first: switching the journal mode may have to wait for another connection.
            await connection.execute(f"PRAGMA busy_timeout = {int(self.pragmas.busy_timeout)}")
            await connection.execute(f"PRAGMA journal_mode = {self.pragmas.journal_mode}")
            await connection.execute(f"PRAGMA synchronous = {self.pragmas.synchronous}")
            await connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def lease(self) -> aiosqlite.Connection:
        """An idle pooled connection, or a new one, for a read-only transaction; hand it back with ``give_back``.
        Waits while ``MAX_READERS`` are out."""
        while self._readers >= MAX_READERS:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken but leaving: pass the turn on
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                raise
        self._readers += 1
        try:
            while self._idle:
                connection = self._idle.pop()
                if connection._running and connection._connection is not None:
                    return connection
            return await self.get_connection()
        except BaseException:
            self._readers -= 1
            self._wake()
            raise

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def give_back(self, connection: aiosqlite.Connection, *, clean: bool) -> None:
        """Returns a connection to the pool. ``clean=False`` (an operation failed or was interrupted, so one may
        still be queued on its thread, or a transaction may be open) closes it instead; closing is queued behind
        whatever is pending and rolls back any open transaction."""
        self._readers -= 1
        self._wake()
        if (
            clean
            and not self._closed
            and len(self._idle) <= MAX_READERS
            and connection._connection is not None
            and not connection.in_transaction
        ):
            self._idle.append(connection)
            return
        task = asyncio.get_running_loop().create_task(self._discard(connection))
        self._discarding.add(task)
        task.add_done_callback(self._discarding.discard)

    @staticmethod
    async def _discard(connection: aiosqlite.Connection) -> None:
        try:
            await connection.close()
        except Exception:
            pass

    async def close_pool(self) -> None:
        self._closed = True
        if self._checkpoint_task is not None:
            with contextlib.suppress(Exception):
                await self._checkpoint_task
        for loop_connection in (self._loop_reader, self._loop_writer, self._checkpointer):
            if loop_connection is not None:
                loop_connection.close()
        self._loop_reader = self._loop_writer = self._checkpointer = None
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._discard(connection)
        if self._discarding:
            await asyncio.gather(*self._discarding, return_exceptions=True)

    # -- the write gate -------------------------------------------------------------------------------------

    def _gate(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._gate_loop is not loop or self._gate_lock is None:
            # One lock per event loop: an asyncio.Lock is bound to the loop it first waited on.
            self._gate_loop, self._gate_lock = loop, asyncio.Lock()
        return self._gate_lock

    async def enter_gate(self) -> asyncio.Lock:
        gate = self._gate()
        try:
            async with asyncio.timeout(self.pragmas.busy_timeout / 1000):
                await gate.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        return gate

    # -- connections on the loop -----------------------------------------------------------------------------

    def _open_on_loop(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("the database is closed")
        connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
        try:
            connection.row_factory = dict_factory
            connection.execute(f"PRAGMA busy_timeout = {int(self.pragmas.busy_timeout)}")
            connection.execute(f"PRAGMA journal_mode = {self.pragmas.journal_mode}")
            connection.execute(f"PRAGMA synchronous = {self.pragmas.synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def loop_reader(self) -> sqlite3.Connection:
        if self._loop_reader is None:
            self._loop_reader = self._open_on_loop()
        return self._loop_reader

    def loop_writer(self) -> sqlite3.Connection:
        if self._loop_writer is None:
            writer = self._open_on_loop()
            writer.execute("PRAGMA wal_autocheckpoint = 0")
            self._loop_writer = writer
        return self._loop_writer

    def committed(self) -> None:
        """Counts a commit of the loop writer; every ``CHECKPOINT_EVERY_COMMITS`` starts a background checkpoint."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY_COMMITS or self._closed:
            return
        if self._checkpoint_task is not None and not self._checkpoint_task.done():
            return
        self._commits = 0
        self._checkpoint_task = asyncio.ensure_future(self._checkpoints())

    async def _checkpoints(self) -> None:
        wal_pages = await asyncio.to_thread(self._checkpoint)
        if wal_pages < WAL_RESET_PAGES or self._closed:
            return
        try:
            gate = await self.enter_gate()
        except sqlite3.OperationalError:
            return  # the writers are busy for long: the next round tries again
        try:
            await asyncio.to_thread(self._checkpoint)
        finally:
            gate.release()

    def _checkpoint(self) -> int:
        """On a worker thread, one at a time; returns the WAL's size in pages."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute(f"PRAGMA busy_timeout = {int(self.pragmas.busy_timeout)}")
        try:
            row = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.OperationalError:
            return 0  # busy: the next one catches up
        return int(row[1]) if row else 0

    async def _on_loop(
        self, connection: sqlite3.Connection, query: str, args: Any, *, locking: bool = False
    ) -> list[Any]:
        """Runs one statement synchronously. ``locking`` (it takes the write lock: ``BEGIN IMMEDIATE``, a write
        outside a transaction): SQLite's busy handler is off for it and SQLITE_BUSY is polled asynchronously up
        to ``busy_timeout``, so another process holding the lock never blocks the loop."""
        if locking:
            connection.execute("PRAGMA busy_timeout = 0")
        try:
            deadline: float | None = None
            while True:
                try:
                    cursor = connection.execute(query, args or ())
                    try:
                        return cursor.fetchall()
                    finally:
                        cursor.close()
                except sqlite3.OperationalError as exc:
                    if not locking or not _is_busy(exc):
                        raise
                    loop = asyncio.get_running_loop()
                    if deadline is None:
                        deadline = loop.time() + self.pragmas.busy_timeout / 1000
                    if loop.time() >= deadline:
                        raise
                    await asyncio.sleep(_BUSY_POLL_SECONDS)
        finally:
            if locking:
                connection.execute(f"PRAGMA busy_timeout = {int(self.pragmas.busy_timeout)}")

    # -- queries --------------------------------------------------------------------------------------------

    async def _run(self, query: str, args: Any) -> list[Any]:
        current = self.current_transaction.get()
        if isinstance(current, LoopWriteTransaction):
            return await self._on_loop(current.connection, query, args)
        if current is not None:
            # A read-only transaction: its own pooled connection, for its snapshot.
            return list(await current.connection.execute_fetchall(query, args or []))
        if _is_read(query):
            return await self._on_loop(self.loop_reader(), query, args)
        gate = await self.enter_gate()
        try:
            rows = await self._on_loop(self.loop_writer(), query, args, locking=True)
        finally:
            gate.release()
        self.committed()
        return rows

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        query, args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run(query, args)

    async def run_compiled(self, query: str, args: Sequence[Any]) -> list[Any]:
        """Runs SQLite text with ``?`` placeholders (``Database.fetch``'s fast path)."""
        return await self._run(query, args)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        return await self._run(ddl, None)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        if transaction_type is TransactionType.deferred:
            return PooledTransaction(
                engine=self, transaction_type=transaction_type, allow_nested=allow_nested
            )
        return LoopWriteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "database is locked" in text or "database is busy" in text


class LoopWriteTransaction(SQLiteTransaction):
    """A write transaction on the loop's writer connection, holding the engine's write gate throughout."""

    __slots__ = ("_gate",)

    engine: PragmaSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        self._gate: asyncio.Lock = await engine.enter_gate()
        try:
            self.connection = engine.loop_writer()
            if self.connection.in_transaction:  # left open by a failure nothing could roll back
                self.connection.rollback()
            await self.begin()
        except BaseException:
            self._gate.release()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def begin(self) -> None:
        await self.engine._on_loop(
            self.connection, f"BEGIN {self.transaction_type.value}", None, locking=True
        )

    async def commit(self) -> None:
        await self.engine._on_loop(self.connection, "COMMIT", None)
        self._committed = True
        self.engine.committed()

    async def rollback(self) -> None:
        self.connection.rollback()
        self._rolled_back = True

    async def savepoint(self, name: str | None = None) -> Any:
        raise NotImplementedError("savepoints are not supported on the loop writer")

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                if (
                    self.connection.in_transaction
                ):  # COMMIT failed: never leave the writer inside a transaction
                    self.connection.rollback()
            finally:
                self.engine.current_transaction.reset(self.context)
                self._gate.release()
        return exception is None


class PooledTransaction(SQLiteTransaction):
    """A read-only (deferred) transaction on a pooled ``aiosqlite`` connection: one snapshot across awaits."""

    __slots__ = ("_clean",)

    engine: PragmaSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        self._clean = False
        self.connection = await engine.lease()
        try:
            await self.begin()
        except BaseException:
            engine.give_back(self.connection, clean=False)
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            self._clean = True
        finally:
            try:
                self.engine.give_back(self.connection, clean=self._clean)
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None
