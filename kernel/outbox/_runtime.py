"""What every worker of one outbox shares: database, write gate, timings and counters."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from fabrikit.kernel.db import Database

from ._handlers import LeaseConfig
from ._profiles import Profile
from ._sql import WriteGate
from ._stop import StopSignal

MAX_ACTIVE_PROCESSORS = 4


@dataclass(frozen=True, slots=True)
class Timings:
    """Injectable intervals (seconds); tests shorten them."""

    poll_interval: float | None = None  # None: the profile's
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    vacuum_interval: float = 10.0
    reconcile_interval: float = 60.0
    stop_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    partitions: int
    handler: Any
    mode: Literal["leased", "transactional"]
    lease: LeaseConfig
    max_attempts: int | None


@dataclass(slots=True)
class Runtime:
    db: Database
    gate: WriteGate
    profile: Profile
    timings: Timings
    active: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_ACTIVE_PROCESSORS))
    results: Counter[tuple[str, str]] = field(default_factory=Counter)
    stop: StopSignal = field(default_factory=StopSignal)

    @property
    def poll_interval(self) -> float:
        return (
            self.timings.poll_interval
            if self.timings.poll_interval is not None
            else self.profile.poll_interval
        )

    def backoff(self, failures: int) -> float:
        """``min(base · 2^(failures−1), max)`` with ±20 % jitter (K-15.7)."""
        delay = min(self.timings.backoff_base * 2 ** min(max(failures - 1, 0), 62), self.timings.backoff_max)
        return delay * random.uniform(0.8, 1.2)
