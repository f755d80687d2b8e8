"""Piccolo engines tuned for fabrikit (K-14.2, K-14.3).

Both engines skip Piccolo's constructor-time version check and extension setup: those open a connection
synchronously (blocking the event loop) and turn failures into warnings, which our strict test settings and
startup error handling should see as errors instead, at ``open_database`` time.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from ._settings import SqlitePragmas


class PragmaSQLiteEngine(SQLiteEngine):
    """SQLite engine that applies the module's pragmas on every connection it opens.

    Piccolo opens a fresh connection per query outside transactions (``_run_in_new_connection``) and per
    transaction (``get_connection``); both paths go through ``get_connection`` here, so no connection ever
    runs without ``busy_timeout``/``foreign_keys``.
    """

    def __init__(self, path: str, pragmas: SqlitePragmas) -> None:
        self.pragmas = pragmas
        super().__init__(path=path)

    async def check_version(self) -> None:
        return None

    async def get_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
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

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = await self.get_connection()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                if query_type == "insert" and self.get_version_sync() < 3.35:
                    return [
                        {
                            table._meta.primary_key._meta.db_column_name: await self._get_inserted_pk(
                                cursor, table
                            )
                        }
                    ]
                return await cursor.fetchall()
        finally:
            await connection.close()


class _TimedPoolTransaction(PostgresTransaction):
    __slots__ = ()

    async def get_connection(self) -> Any:
        engine = self.engine
        if engine.pool:
            return await engine.pool.acquire(timeout=getattr(engine, "acquire_timeout", None))
        return await engine.get_new_connection()


class PoolPostgresEngine(PostgresEngine):
    """PostgreSQL engine whose pool acquisitions honour ``pool.acquire_timeout``."""

    def __init__(self, config: dict[str, Any], *, acquire_timeout: float | None) -> None:
        self.acquire_timeout = acquire_timeout
        super().__init__(config=config, extensions=())

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    async def _run_in_pool(self, query: str, args: Any = None) -> Any:
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire(timeout=self.acquire_timeout) as connection:
            return await connection.fetch(query, *(args or []))

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _TimedPoolTransaction(engine=self, allow_nested=allow_nested)
