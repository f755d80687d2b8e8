"""What a module sees of the runtime: its context, its record and a read-only view (K-6.3, K-8)."""

from __future__ import annotations

import asyncio
import enum
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ._hub import ClientHub
from ._module import Capability, Manifest

if TYPE_CHECKING:
    from ._plugin_host import ModulePlugins
    from ._runtime import Runtime


class ModuleState(enum.StrEnum):
    PENDING = "pending"
    MIGRATING = "migrating"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class DatabaseNotConfigured(RuntimeError):
    def __init__(self, module: str) -> None:
        super().__init__(
            f"module '{module}' has no database: declare the 'db' capability or a database block"
        )


class SpawnNotAllowed(RuntimeError):
    pass


@dataclass
class ModuleRecord:
    name: str
    version: str
    capabilities: frozenset[Capability]
    deps: tuple[str, ...]
    optional_deps: tuple[str, ...]
    distribution: str
    order: int
    state: ModuleState = ModuleState.PENDING
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    start_entered: bool = False

    def fail(self, error: str) -> None:
        self.state = ModuleState.FAILED
        self.error = error

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "name": self.name,
            "version": self.version,
            "capabilities": sorted(c.value for c in self.capabilities),
            "state": self.state.value,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class PluginRecord:
    name: str
    host: str
    spec_id: str
    instance_id: str
    vendor: str
    priority: int
    distribution: str
    active: bool
    skip_reason: str | None = None


class RuntimeView:
    """Read-only runtime facts for system modules, health probes and the orchestrator (K-8, K-19)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def instance_id(self) -> str:
        return self._rt.instance_id

    def modules(self) -> list[ModuleRecord]:
        return list(self._rt.records.values())

    def plugins(self) -> list[PluginRecord]:
        return list(self._rt.plugin_records)

    def is_ready(self) -> bool:
        return self._rt.is_ready()

    def readiness(self) -> tuple[bool, dict[str, str]]:
        """(ready, {module: state} of the modules that are not running or whose checks fail)."""
        return self._rt.readiness()

    @property
    def shutting_down(self) -> bool:
        return self._rt.shutting_down

    def startup_report(self) -> dict[str, Any] | None:
        return self._rt.last_report

    def manifest(self, name: str) -> Manifest:
        return self._rt.sources[name].manifest


class SystemContext:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = RuntimeView(runtime)
        self.hub: ClientHub = runtime.hub


# Synchronous: /readyz and RuntimeView.readiness() evaluate checks without awaiting.
ReadinessCheck = Callable[[], bool]


class ModuleContext:
    """Everything a module may use; one per module per process."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        name: str,
        config: Any,
        home: Path,
        plugins: ModulePlugins,
        database_block: Mapping[str, Any] | None = None,
    ) -> None:
        self._rt = runtime
        self.name = name
        self.config = config
        self.hub: ClientHub = runtime.hub
        self.plugins = plugins
        self.logger = structlog.get_logger(f"fabrikit.modules.{name}").bind(module=name)
        self.stopping = asyncio.Event()
        self.stop_deadline: float | None = None
        self._home = home / name
        self._db: Any = None
        self.database_block = database_block
        self._ready = asyncio.Event()
        self._failed = asyncio.Event()
        self._tasks: dict[asyncio.Task[Any], tuple[str, bool]] = {}
        self._spawn_allowed = False
        self.readiness_checks: dict[str, ReadinessCheck] = {}

    @property
    def instance_id(self) -> str:
        return self._rt.instance_id

    @property
    def runtime(self) -> RuntimeView:
        """A read-only view of the runtime (states, readiness), e.g. for the REST host's probes."""
        return RuntimeView(self._rt)

    @property
    def home_dir(self) -> Path:
        self._home.mkdir(parents=True, exist_ok=True)
        return self._home

    @property
    def db(self) -> Any:
        return self._db

    def db_required(self) -> Any:
        if self._db is None:
            raise DatabaseNotConfigured(self.name)
        return self._db

    def set_ready(self) -> None:
        self._ready.set()

    def add_readiness_check(self, name: str, fn: ReadinessCheck) -> None:
        if inspect.iscoroutinefunction(fn):
            raise TypeError(
                f"readiness check '{name}' of module '{self.name}' must be a plain function returning bool, "
                "not async (keep the state fresh from a task and return it here)"
            )
        self.readiness_checks[name] = fn

    def spawn(
        self, name: str, coro_fn: Callable[[], Awaitable[Any]], *, critical: bool = True
    ) -> asyncio.Task[Any]:
        """Starts a background task owned by this module; a failure marks the module failed (K-7.2)."""
        if not self._spawn_allowed:
            raise SpawnNotAllowed(f"module '{self.name}' may spawn tasks only from start() on, not in init")
        task: asyncio.Task[Any] = asyncio.ensure_future(coro_fn())
        task.set_name(f"{self.name}:{name}")
        self._tasks[task] = (name, critical)
        task.add_done_callback(self._task_done)
        return task

    def singleton(self, name: str, coro_fn: Callable[[], Awaitable[Any]], *, ttl: float = 15.0) -> Any:
        """Runs ``coro_fn`` in at most one process per module database (K-16)."""
        from .db import Singleton

        worker = Singleton(self.db_required(), self.name, name, coro_fn, ttl=ttl)
        self.spawn(f"singleton:{name}", worker.run)
        return worker

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        name, critical = self._tasks.pop(task, (task.get_name(), True))
        if self.stopping.is_set():
            return
        if task.cancelled():
            if critical:
                self._rt.module_task_failed(self.name, f"task '{name}' was cancelled")
            return
        exc = task.exception()
        if exc is not None:
            self._rt.module_task_failed(self.name, f"task '{name}' failed: {type(exc).__name__}: {exc}", exc)
        elif critical:
            self._rt.module_task_failed(self.name, f"task '{name}' returned before stop")

    async def _cancel_tasks(self, wait: float = 1.0) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=wait)
