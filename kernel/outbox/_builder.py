"""``Outbox.builder(db)``: profile, queues and timings, then ``await build()`` (K-15.1)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

from fabrikit.kernel.db import Database
from fabrikit.kernel.errors import DomainError

from ._errors import InvalidOutboxConfig, InvalidPartitionCount, InvalidQueueName, OutboxStateError
from ._handlers import LeaseConfig
from ._outbox import Outbox, register_queue
from ._profiles import PROFILES, Profile
from ._runtime import QueueSpec, Runtime, Timings
from ._sql import WriteGate
from ._tables import PARTITIONS

_QUEUE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,1022}[A-Za-z0-9])?$")


def check_queue_name(name: Any) -> str:
    if not isinstance(name, str) or not _QUEUE_RE.match(name):
        raise InvalidQueueName(
            f"queue name {name!r} must be 1–1024 of [A-Za-z0-9._-], alphanumeric at both ends"
        )
    return name


def check_partitions(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 64 or n & (n - 1):
        raise InvalidPartitionCount(f"partition count must be a power of two within 1–64, got {n!r}")
    return n


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class OutboxBuilder:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._profile = PROFILES["default"]
        self._queues: dict[str, QueueSpec] = {}
        self._timings = Timings()

    def profile(self, profile: str | Profile) -> OutboxBuilder:
        """``default`` 16/1 s, ``low_latency`` 1/100 ms, ``high_throughput`` 128/1 s, ``relaxed`` 16/5 s."""
        if isinstance(profile, Profile):
            self._profile = profile
        elif profile in PROFILES:
            self._profile = PROFILES[profile]
        else:
            raise InvalidOutboxConfig(
                f"unknown outbox profile {profile!r}; expected one of {sorted(PROFILES)}"
            )
        return self

    def queue(
        self,
        name: str,
        *,
        partitions: int,
        handler: Any,
        mode: Literal["leased", "transactional"] = "leased",
        lease: LeaseConfig | None = None,
        max_attempts: int | None = None,
    ) -> OutboxBuilder:
        """Registers a queue; the same name again with the same partition count is a no-op."""
        check_queue_name(name)
        check_partitions(partitions)
        if mode not in ("leased", "transactional"):
            raise InvalidOutboxConfig(
                f"queue {name!r}: mode must be 'leased' or 'transactional', not {mode!r}"
            )
        if not callable(handler):
            handle = getattr(handler, "handle", None)
            if not callable(handle):
                raise InvalidOutboxConfig(
                    f"queue {name!r}: handler must be callable or have a handle() method"
                )
            handler = handle
        if max_attempts is not None and (
            isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
        ):
            raise InvalidOutboxConfig(f"queue {name!r}: max_attempts must be a positive integer or None")
        if lease is not None and not isinstance(lease, LeaseConfig):
            raise InvalidOutboxConfig(f"queue {name!r}: lease must be a LeaseConfig")
        spec = QueueSpec(name, partitions, handler, mode, lease or LeaseConfig(), max_attempts)
        existing = self._queues.get(name)
        if existing is not None and existing.partitions != partitions:
            from ._errors import PartitionCountMismatch

            raise PartitionCountMismatch(name, existing.partitions, partitions)
        self._queues[name] = spec
        return self

    def timings(
        self,
        *,
        poll_interval: float | timedelta | None = None,
        backoff_base: float | timedelta | None = None,
        backoff_max: float | timedelta | None = None,
        vacuum_interval: float | timedelta | None = None,
        reconcile_interval: float | timedelta | None = None,
        stop_timeout: float | timedelta | None = None,
    ) -> OutboxBuilder:
        """Overrides intervals (seconds); tests and benchmarks shorten them."""
        changes = {
            key: _seconds(value)
            for key, value in {
                "poll_interval": poll_interval,
                "backoff_base": backoff_base,
                "backoff_max": backoff_max,
                "vacuum_interval": vacuum_interval,
                "reconcile_interval": reconcile_interval,
                "stop_timeout": stop_timeout,
            }.items()
            if value is not None
        }
        for key, value in changes.items():
            if value <= 0:
                raise InvalidOutboxConfig(f"{key} must be positive")
        self._timings = replace(self._timings, **changes)
        return self

    async def build(self) -> Outbox:
        """Stores the queues' partitions (``PartitionCountMismatch`` if the stored count differs) → ``Outbox``."""
        if not self._queues:
            raise InvalidOutboxConfig("an outbox needs at least one queue")
        try:
            ids = {name: await register_queue(self._db, spec) for name, spec in self._queues.items()}
        except DomainError:
            raise
        except Exception as exc:
            if not await _tables_exist(self._db):
                raise OutboxStateError(
                    "the outbox tables do not exist: append outbox_migration() to the module's migrations"
                ) from exc
            raise
        rt = Runtime(db=self._db, gate=WriteGate(self._db), profile=self._profile, timings=self._timings)
        return Outbox(rt, self._queues, ids)


async def _tables_exist(db: Database) -> bool:
    if db.dialect == "sqlite":
        sql = "SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = {}"
    else:
        sql = "SELECT 1 AS one FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = {}"
    return await db.fetch_one(sql, PARTITIONS) is not None
