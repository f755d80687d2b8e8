"""mini-chat's background work in one place: the CI-10 outbox with its handlers and the orphan watchdog (CI-14).

``module.py`` calls ``start_background`` in ``start`` and ``Background.stop`` in ``stop``. The outbox processors
run in every process (CI-14.4); the watchdog runs only in the ``orphan-watchdog`` singleton's leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fabrikit.kernel.db import Database, Singleton
from fabrikit.kernel.outbox import LeasedHandler, Outbox

from ..config import MiniChatConfig
from ..domain.telemetry import NoTelemetry, Telemetry
from .handlers import ThreadSummaryHandler, outbox_handlers
from .outbox import OutboxEnqueuer, register_queues
from .telemetry import prometheus_telemetry
from .watchdog import OrphanWatchdog, watchdog_for

_log = logging.getLogger("fabrikit.mini_chat.cleanup")
WATCHDOG_ROLE = "orphan-watchdog"
RECONCILER_ROLE = "cleanup-reconciler"
SINGLETON_TTL_SECONDS = 15.0
SingletonFactory = Callable[[str, Callable[[], Awaitable[Any]], float], Any]


class Background:
    """What ``start_background`` started; ``stop`` ends the watchdog, then the outbox (in-flight work is redelivered
    after its lease, so stopping never loses an event)."""

    def __init__(
        self,
        outbox: Outbox,
        watchdog: OrphanWatchdog,
        leader: Any,
        telemetry: Telemetry,
        reconciler: Any = None,
    ) -> None:
        self.outbox = outbox
        self.watchdog = watchdog
        self.leader = leader  # kernel ``Singleton`` running the watchdog (None when disabled)
        self.reconciler = (
            reconciler  # kernel ``Singleton`` running the cleanup reconciler (None when disabled)
        )
        self.telemetry = telemetry

    async def stop(self, timeout: float | None = None) -> None:
        self.watchdog.stop()
        for singleton in (self.leader, self.reconciler):
            stop_leader = getattr(singleton, "stop", None)
            if stop_leader is not None:
                with contextlib.suppress(Exception):
                    await stop_leader()
        await self.outbox.stop(timeout)


async def start_background(
    ctx: Any,
    engine: Any,
    config: MiniChatConfig,
    *,
    policy_selector: Any,
    audit_selector: Any,
    extra_handlers: Mapping[str, LeasedHandler] | None = None,
) -> Background:
    """Call from ``MiniChat.start``: builds the outbox with every CI-10 queue, binds it to the engine's
    ``OutboxEnqueuer``, starts it, wires the engine's metrics and starts the watchdog via ``ctx.singleton``."""
    return await launch_background(
        ctx.db_required(),
        engine,
        config,
        policy_selector=policy_selector,
        audit_selector=audit_selector,
        singleton=lambda name, fn, ttl: ctx.singleton(name, fn, ttl=ttl),
        extra_handlers=extra_handlers,
    )


def kernel_singleton(db: Database, module: str, *, retry_interval: float = 5.0) -> SingletonFactory:
    """A ``singleton`` argument for ``launch_background`` outside a module context (tools, tests): a kernel
    ``Singleton`` started as a plain task and stopped by ``Background.stop``."""

    def start(name: str, fn: Callable[[], Awaitable[Any]], ttl: float) -> Singleton:
        worker = Singleton(db, module, name, fn, ttl=ttl, retry_interval=retry_interval)
        worker.start()
        return worker

    return start


async def launch_background(
    db: Database,
    engine: Any,
    config: MiniChatConfig,
    *,
    policy_selector: Any,
    audit_selector: Any,
    singleton: SingletonFactory | None,
    extra_handlers: Mapping[str, LeasedHandler] | None = None,
    outbox_timings: Mapping[str, float] | None = None,
    start_outbox: bool = True,
) -> Background:
    """``start_background`` without a module context. ``singleton=None`` skips the watchdog;
    ``start_outbox=False`` builds and binds the outbox without delivering (a process that only enqueues)."""
    telemetry = engine.telemetry
    if isinstance(telemetry, NoTelemetry):
        telemetry = prometheus_telemetry(config.metrics.prefix)
        engine.use_telemetry(telemetry)
    handlers = outbox_handlers(
        vendor=config.vendor,
        audit_call_timeout_seconds=config.outbox.audit_call_timeout_seconds,
        policy_selector=policy_selector,
        audit_selector=audit_selector,
        telemetry=telemetry,
        summary=ThreadSummaryHandler(engine.summaries, config.thread_summary.max_attempts),
        cleanup=engine.cleanup,
        extra=extra_handlers,
    )
    builder = register_queues(Outbox.builder(db), config, handlers)
    if outbox_timings:
        builder = builder.timings(**outbox_timings)
    outbox = await builder.build()
    enqueuer = engine.outbox
    if not isinstance(enqueuer, OutboxEnqueuer):
        raise TypeError("the engine's outbox must be an infra.outbox.OutboxEnqueuer to bind the real outbox")
    enqueuer.bind(outbox)
    if start_outbox:
        await outbox.start()
    watchdog = watchdog_for(engine, db, config)
    leader = None
    if singleton is not None and config.orphan_watchdog.enabled:
        leader = singleton(WATCHDOG_ROLE, watchdog.run, SINGLETON_TTL_SECONDS)
    reconciler = None
    if singleton is not None and config.cleanup.enabled:
        reconciler = singleton(RECONCILER_ROLE, reconcile_loop(engine, config), SINGLETON_TTL_SECONDS)
    await asyncio.sleep(0)
    return Background(outbox, watchdog, leader, telemetry, reconciler)


def reconcile_loop(engine: Any, config: MiniChatConfig) -> Callable[[], Awaitable[None]]:
    """CI-14.3 in the ``cleanup-reconciler`` singleton's leader: a pass every ``reconcile_interval_seconds``."""

    async def run() -> None:
        while True:
            try:
                queued = await engine.cleanup.reconcile()
                if queued:
                    _log.info("cleanup reconciler queued %d stale cleanups again", queued)
            except Exception as exc:  # the next pass tries again; a crash here would end the leadership
                _log.warning("cleanup reconciler pass failed: %s", type(exc).__name__)
            await asyncio.sleep(config.cleanup.reconcile_interval_seconds)

    return run


__all__ = [
    "RECONCILER_ROLE",
    "WATCHDOG_ROLE",
    "Background",
    "kernel_singleton",
    "launch_background",
    "start_background",
]
