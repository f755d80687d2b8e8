"""Cooperative stop: workers are cancelled only where they wait, never inside a database call.

Cancelling a task inside a driver call can leak a pooled PostgreSQL connection or an aiosqlite connection, so
``stop`` cancels the workers parked in ``interruptible()`` (sleeps, queue waits, leased handlers) and lets the
others reach their next such point; only stragglers past the stop deadline are cancelled outright.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class StopSignal:
    def __init__(self) -> None:
        self.stopping = False
        self._parked: set[asyncio.Task[object]] = set()

    @asynccontextmanager
    async def interruptible(self) -> AsyncIterator[None]:
        if self.stopping:
            raise asyncio.CancelledError
        task = asyncio.current_task()
        assert task is not None
        self._parked.add(task)
        try:
            yield
        finally:
            self._parked.discard(task)

    async def sleep(self, seconds: float) -> None:
        async with self.interruptible():
            await asyncio.sleep(seconds)

    def stop(self) -> None:
        self.stopping = True
        for task in list(self._parked):
            task.cancel()

    def reset(self) -> None:
        self.stopping = False
        self._parked.clear()
