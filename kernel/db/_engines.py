"""Piccolo engines tuned for fabrikit (K-14.2, K-14.3).

Both engines skip Piccolo's constructor-time version check and extension setup: those open a connection
synchronously (blocking the event loop) and turn failures into warnings, which our strict test settings and
startup error handling should see as errors instead, at ``open_database`` time.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from ._sqlite_engine import PragmaSQLiteEngine

__all__ = ["PoolPostgresEngine", "PragmaSQLiteEngine"]


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
