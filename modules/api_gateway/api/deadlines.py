"""The timeout step (P-6.3 step 4): one shared timer for every request still waiting for its response head.

``asyncio.timeout`` per request costs a timer handle, its cancellation and a context manager on every request,
although almost every request answers long before its deadline. Here a request only joins a set; while the set
is not empty one ticker wakes every ``resolution`` seconds and cancels the tasks whose deadline passed. A
deadline is therefore met within ``resolution`` late, never early. The head of a response leaves the set, so a
started stream is never cut.
"""

from __future__ import annotations

import asyncio


class Deadline:
    """One request's deadline; ``at`` is on the loop clock, ``None`` means no limit."""

    __slots__ = ("_owner", "at", "expired", "task")

    def __init__(self, owner: Deadlines, task: asyncio.Task[object], at: float | None) -> None:
        self._owner = owner
        self.task = task
        self.at = at
        self.expired = False

    def move(self, at: float | None) -> None:
        """A new deadline (an operation's own ``timeout_s``); ``None`` lifts it."""
        if not self.expired:
            self.at = at

    def release(self) -> None:
        """The head went out (or the request ended): this request can no longer time out."""
        self._owner._pending.discard(self)

    def cancelled_by_me(self) -> bool:
        """True when the task's cancellation came from this deadline alone (as ``asyncio.timeout`` decides):
        the caller then owes the client a 504 instead of propagating the cancellation."""
        return self.expired and self.task.uncancel() == 0


class Deadlines:
    def __init__(self, resolution: float = 0.05) -> None:
        self.resolution = resolution
        self._pending: set[Deadline] = set()
        self._ticker_loop: asyncio.AbstractEventLoop | None = None

    def watch(self, at: float | None) -> Deadline:
        """The current task's deadline, watched until ``release``."""
        task = asyncio.current_task()
        assert task is not None, "watch() runs inside a request task"
        deadline = Deadline(self, task, at)
        self._pending.add(deadline)
        loop = task.get_loop()
        if self._ticker_loop is not loop:  # idle until now (or the gateway moved to another loop)
            self._ticker_loop = loop
            loop.call_at(loop.time() + self.resolution, self._tick, loop)
        return deadline

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending
        if not pending or self._ticker_loop is not loop:
            if self._ticker_loop is loop:
                self._ticker_loop = None
            return
        now = loop.time()
        for deadline in [d for d in pending if d.at is not None and d.at <= now]:
            pending.discard(deadline)
            deadline.expired = True
            deadline.task.cancel("gateway timeout")
        loop.call_at(now + self.resolution, self._tick, loop)
