"""The runtime: discovery → resolution → phases → running → stop, with rollback (K-6, K-7)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from ._config import AppConfig, ConfigError, convert_config
from ._context import ModuleContext, ModuleRecord, ModuleState, PluginRecord, RuntimeView, SystemContext
from ._discovery import Discovered, DiscoveryIssue, PluginSource, discover
from ._hub import ClientHub
from ._module import Capability, Module, ModuleInfo, ModuleSource
from ._phases import (
    SLOW_PHASE_SECONDS,
    SLOW_SYNC_SECONDS,
    PhaseError,
    PhaseTimeoutError,
    StartupError,
    phase_timeout,
)
from ._plugin_host import ModulePlugins, SpecRegistry, materialize, plugin_records, validate_plugin_config
from ._resolve import Resolution, ResolutionError, UnknownModuleError, resolve

_log = structlog.get_logger("fabrikit.kernel")


@dataclass
class Plan:
    """Everything decided before any module code runs; ``fabrikit check`` stops here."""

    discovered: Discovered
    resolution: Resolution
    sources: dict[str, ModuleSource]
    module_configs: dict[str, Any]
    plugins: list[PluginRecord]
    plugin_sources: dict[str, PluginSource]
    plugin_configs: dict[str, Any]

    @property
    def issues(self) -> list[DiscoveryIssue]:
        return self.discovered.issues


def build_plan(config: AppConfig, *, load_entry_points: bool = True, extra: Sequence[Any] = ()) -> Plan:
    """Discovers, resolves and validates every module and plugin config; raises ConfigError/ResolutionError."""
    discovered = discover(
        load_entry_points=load_entry_points, extra=extra, plugin_config=_plugin_section(config)
    )
    configured = list(config.modules)
    resolution = resolve([ModuleInfo.from_source(s) for s in discovered.modules], configured)
    sources = {s.name: s for s in discovered.modules if s.name in resolution.modules}
    errors: list[str] = []
    module_configs: dict[str, Any] = {}
    for name in resolution.order:
        entry = config.modules.get(name)
        raw = getattr(entry, "config", None) if entry is not None else None
        try:
            module_configs[name] = convert_config(
                {} if raw is None else raw, sources[name].module_cls.config_type, f"modules.{name}.config"
            )
        except ConfigError as exc:
            errors.extend(exc.messages)
    plugin_sources = {p.definition.name: p for p in discovered.plugins}
    unknown = sorted(set(config.plugins) - set(plugin_sources))
    if unknown:
        raise ResolutionError(
            [UnknownModuleError(n, sorted(plugin_sources), section="plugins") for n in unknown]
        )
    records = plugin_records(discovered.plugins, config.plugins, set(resolution.modules))
    plugin_configs: dict[str, Any] = {}
    for rec in records:
        if rec.active:
            try:
                plugin_configs[rec.name] = validate_plugin_config(
                    plugin_sources[rec.name], config.plugins.get(rec.name)
                )
            except ConfigError as exc:
                errors.extend(exc.messages)
    if errors:
        raise ConfigError(errors)
    return Plan(discovered, resolution, sources, module_configs, records, plugin_sources, plugin_configs)


def _plugin_section(config: AppConfig) -> dict[str, Any]:
    import msgspec

    return {k: msgspec.to_builtins(v) if v is not None else None for k, v in config.plugins.items()}


class Runtime:
    def __init__(
        self,
        config: AppConfig,
        *,
        load_entry_points: bool = True,
        extra: Sequence[Any] = (),
        clients: Mapping[type, Any] | None = None,
    ) -> None:
        self.config = config
        self._load_entry_points = load_entry_points
        self._extra = list(extra)
        self.instance_id = str(config.server.instance_id or uuid.uuid4())
        self.home = Path(config.server.home_dir).resolve()
        self.hub = ClientHub()
        for iface, impl in (clients or {}).items():
            self.hub.register(iface, impl)
        self.records: dict[str, ModuleRecord] = {}
        self.plugin_records: list[PluginRecord] = []
        self.sources: dict[str, ModuleSource] = {}
        self.modules: dict[str, Module] = {}
        self.contexts: dict[str, ModuleContext] = {}
        self.plan: Plan | None = None
        self.last_report: dict[str, Any] | None = None
        self.shutting_down = False
        self._started = False
        self._start_order: list[str] = []
        self._plugin_clients: list[Any] = []
        self._databases: list[Any] = []
        self._spec_registry = SpecRegistry(self.hub)
        self._until: str | None = None
        self._shutdown_event: asyncio.Event | None = None
        self.exit_code = 0

    # ------------------------------------------------------------------ public API
    def view(self) -> RuntimeView:
        return RuntimeView(self)

    async def run(self) -> int:
        """Full lifecycle with signal handling; returns the process exit code (K-7.3, K-7.5)."""
        loop = asyncio.get_running_loop()
        self._shutdown_event = asyncio.Event()
        startup = asyncio.current_task()
        signals_seen: list[str] = []

        def on_signal(sig: signal.Signals) -> None:
            signals_seen.append(sig.name)
            if len(signals_seen) > 1:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
            elif not self._started and startup is not None:
                startup.cancel(f"startup cancelled by {sig.name}")
            else:
                self.request_shutdown()

        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal, sig)
                installed.append(sig)
        try:
            try:
                await self.startup()
            except asyncio.CancelledError:
                if not signals_seen:
                    raise
                _log.error("startup_failed", error=f"startup cancelled by {signals_seen[0]}")
                return 1
            except StartupError:
                return 1
            if self.config.runtime.freeze_heap:
                _log.info("startup_heap_frozen", objects=freeze_startup_heap())
            await self._shutdown_event.wait()
            await self.shutdown()
            return self.exit_code or (1 if self._any_failed() else 0)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    @contextlib.asynccontextmanager
    async def started(self) -> AsyncIterator[Runtime]:
        self._shutdown_event = asyncio.Event()
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    def request_shutdown(self, exit_code: int | None = None) -> None:
        if exit_code is not None:
            self.exit_code = exit_code
        if self._shutdown_event is not None:
            self._shutdown_event.set()

    def is_ready(self) -> bool:
        return self.readiness()[0]

    def readiness(self) -> tuple[bool, dict[str, str]]:
        bad = {n: r.state.value for n, r in self.records.items() if r.state is not ModuleState.RUNNING}
        for name, ctx in self.contexts.items():
            for check_name, fn in ctx.readiness_checks.items():
                try:
                    ok = fn()
                except Exception:
                    ok = False
                if inspect.isawaitable(ok):  # a sync callable returning a coroutine: never awaited here
                    getattr(ok, "close", lambda: None)()
                    ok = False
                if ok is False:
                    bad.setdefault(name, f"check_failed:{check_name}")
        return (self._started and not self.shutting_down and not bad), bad

    # ------------------------------------------------------------------ startup
    async def startup(self, until: str | None = None) -> None:
        """Runs the phases; ``until`` (db, post_init, rest) stops after that phase, for CLI inspection commands."""
        t0 = time.perf_counter()
        failed: dict[str, str] = {}
        self._until = until
        try:
            self.plan = plan = build_plan(
                self.config, load_entry_points=self._load_entry_points, extra=self._extra
            )
            for issue in plan.issues:
                _log.warning("discovery_issue", **issue.__dict__)
            self._prepare(plan)
            await self._run_phases(plan, failed)
            if until is not None:
                self.last_report = self._report(True, t0, {})
                return
        except BaseException as exc:
            failed.setdefault("error", _error_text(exc))
            await self._rollback()
            self.last_report = self._report(False, t0, failed)
            _log.error("startup_report", **self.last_report)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise StartupError(_error_text(exc), self.last_report) from exc
        self._started = True
        with contextlib.suppress(Exception):
            self.hub.freeze()
        for rec in self.records.values():
            if rec.state is ModuleState.INITIALIZED:
                rec.state = ModuleState.RUNNING
        self.last_report = self._report(True, t0, {})
        _log.info("startup_report", **self.last_report)

    def _prepare(self, plan: Plan) -> None:
        self.sources = plan.sources
        self.plugin_records = plan.plugins
        for order, name in enumerate(plan.resolution.order):
            src = plan.sources[name]
            m = src.manifest
            self.records[name] = ModuleRecord(
                name, m.version, m.capabilities, m.deps, m.optional_deps, src.distribution, order
            )
            self.modules[name] = src.module_cls()
            entry = self.config.modules.get(name)
            self.contexts[name] = ModuleContext(
                runtime=self,
                name=name,
                config=plan.module_configs[name],
                home=self.home,
                plugins=ModulePlugins(name, self._spec_registry),
                database_block=getattr(entry, "database", None) if entry is not None else None,
            )

    async def _run_phases(self, plan: Plan, failed: dict[str, str]) -> None:
        order = list(plan.resolution.order)
        caps = {n: self.sources[n].manifest.capabilities for n in order}
        system = [n for n in order if Capability.SYSTEM in caps[n]]
        sys_ctx = SystemContext(self)
        for name in system:
            self._sync_phase("pre_init", name, failed, partial(self.modules[name].pre_init, sys_ctx))
        for name in order:
            if Capability.DB in caps[name] or self.contexts[name].database_block is not None:
                self.records[name].state = ModuleState.MIGRATING
                await self._async_phase("db", name, failed, partial(self._open_database, name))
        if self._until == "db":
            return
        for name in order:
            self.records[name].state = ModuleState.INITIALIZING
            await self._async_phase(
                "init", name, failed, partial(self.modules[name].init, self.contexts[name])
            )
            self.records[name].state = ModuleState.INITIALIZED
        await self._materialize_plugins(plan, failed)
        for name in system:
            await self._async_phase("post_init", name, failed, partial(self.modules[name].post_init, sys_ctx))
        if self._until == "post_init":
            return
        self._rest_phase(plan, failed)
        if self._until == "rest":
            return
        host = plan.resolution.rest_host
        stateful = [n for n in order if Capability.STATEFUL in caps[n] and n != host]
        if host is not None and Capability.STATEFUL in caps[host]:
            stateful.append(host)
        for name in stateful:
            await self._start_module(name, failed)

    def _timeout(self, phase: str, name: str) -> float:
        rt = self.config.runtime
        return phase_timeout(
            phase,
            name,
            module_timeouts=rt.module_timeouts or {},
            manifest_timeouts=self.sources[name].manifest.timeouts if name in self.sources else None,
            runtime_timeouts=self._explicit_runtime_timeouts(),
        )

    def _explicit_runtime_timeouts(self) -> dict[str, float]:
        """Only keys written under ``runtime.timeouts`` outrank a manifest's own timeouts (K-6.2)."""
        written = ((self.config.raw.get("runtime") or {}).get("timeouts") or {}) if self.config.raw else {}
        return {k: float(getattr(self.config.runtime.timeouts, k)) for k in written}

    def _sync_phase(self, phase: str, name: str, failed: dict[str, str], fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            self._fail(phase, name, failed, exc)
            raise PhaseError(phase, name, exc) from exc
        elapsed = time.perf_counter() - t
        self._timed(phase, name, elapsed, slow=SLOW_SYNC_SECONDS)
        return result

    async def _async_phase(
        self, phase: str, name: str, failed: dict[str, str], fn: Callable[[], Awaitable[Any]]
    ) -> Any:
        seconds = self._timeout(phase, name)
        t = time.perf_counter()
        try:
            async with asyncio.timeout(seconds):
                result = await fn()
        except TimeoutError as exc:
            err = PhaseTimeoutError(phase, name, seconds)
            self._fail(phase, name, failed, err)
            raise err from exc
        except asyncio.CancelledError as exc:
            # keeps the reason given to cancel(), e.g. "startup cancelled by SIGTERM" (K-7.3)
            self._fail(phase, name, failed, _error_text(exc))
            raise
        except Exception as exc:
            self._fail(phase, name, failed, exc)
            raise PhaseError(phase, name, exc) from exc
        self._timed(phase, name, time.perf_counter() - t, slow=SLOW_PHASE_SECONDS)
        return result

    def _timed(self, phase: str, name: str, elapsed: float, *, slow: float) -> None:
        if name in self.records:
            self.records[name].timings_ms[phase] = elapsed * 1000
        _log.debug("module_phase_completed", module=name, phase=phase, duration_ms=round(elapsed * 1000, 3))
        if elapsed > slow:
            _log.warning("module_phase_slow", module=name, phase=phase, duration_ms=round(elapsed * 1000, 3))

    def _fail(self, phase: str, name: str, failed: dict[str, str], exc: BaseException | str) -> None:
        text = exc if isinstance(exc, str) else _error_text(exc)
        failed.update(failed_phase=phase, failed_module=name, error=text)
        if name in self.records:
            self.records[name].fail(text)
        _log.error("module_phase_failed", module=name, phase=phase, error=text)

    def db_settings(self, name: str) -> Any:
        from . import db as kdb

        dbcfg = self.config.database
        return kdb.resolve_db_settings(
            name,
            _plain(self.contexts[name].database_block),
            {k: _plain(v) for k, v in (dbcfg.servers or {}).items()},
            dbcfg.default_server,
            self.home,
        )

    async def _open_database(self, name: str) -> None:
        from . import db as kdb
        from ._version import fabrikit_version

        ctx = self.contexts[name]
        database = await kdb.open_database(
            name, self.db_settings(name), auto_provision=self.config.database.auto_provision
        )
        self._databases.append(database)
        ctx._db = database
        module = self.modules[name]
        tables = list(module.tables())
        if tables:
            database.bind(*tables)
        migrations = list(module.migrations())
        if migrations:
            applied = await kdb.run_migrations(
                database, name, migrations, fabrikit_version=fabrikit_version()
            )
            for m in applied:
                _log.info("migration_applied", module=name, migration=m)

    async def _materialize_plugins(self, plan: Plan, failed: dict[str, str]) -> None:
        for rec in plan.plugins:
            if not rec.active:
                _log.debug("plugin_skipped", plugin=rec.name, reason=rec.skip_reason)
                continue
            timeout = phase_timeout(
                "plugins",
                rec.name,
                module_timeouts={},
                manifest_timeouts=None,
                runtime_timeouts=self._explicit_runtime_timeouts(),
            )
            t = time.perf_counter()
            try:
                client = await materialize(
                    rec,
                    plan.plugin_sources[rec.name],
                    plan.plugin_configs.get(rec.name),
                    self._spec_registry,
                    self.home,
                    timeout,
                )
            except TimeoutError as exc:
                err = PhaseTimeoutError("plugins", rec.name, timeout)
                failed.update(failed_phase="plugins", failed_module=rec.name, error=str(err))
                raise err from exc
            except Exception as exc:
                failed.update(failed_phase="plugins", failed_module=rec.name, error=_error_text(exc))
                _log.error("module_phase_failed", plugin=rec.name, phase="plugins", error=_error_text(exc))
                raise PhaseError("plugins", rec.name, exc) from exc
            self._plugin_clients.append(client)
            _log.debug(
                "plugin_materialized", plugin=rec.name, duration_ms=round((time.perf_counter() - t) * 1000, 3)
            )

    def _rest_phase(self, plan: Plan, failed: dict[str, str]) -> None:
        host = plan.resolution.rest_host
        if host is None:
            return
        registrar = self._sync_phase(
            "rest", host, failed, lambda: self.modules[host].rest_prepare(self.contexts[host])
        )
        for name in plan.resolution.order:
            if Capability.REST in self.sources[name].manifest.capabilities and name != host:
                self._sync_phase(
                    "rest",
                    name,
                    failed,
                    partial(self.modules[name].register_rest, self.contexts[name], registrar),
                )
        if Capability.REST in self.sources[host].manifest.capabilities:
            self._sync_phase(
                "rest", host, failed, lambda: self.modules[host].register_rest(self.contexts[host], registrar)
            )
        self._sync_phase(
            "rest", host, failed, lambda: self.modules[host].rest_finalize(self.contexts[host], registrar)
        )

    async def _start_module(self, name: str, failed: dict[str, str]) -> None:
        rec, ctx, module = self.records[name], self.contexts[name], self.modules[name]
        rec.state = ModuleState.STARTING
        rec.start_entered = True
        ctx._spawn_allowed = True
        self._start_order.append(name)

        async def start_and_wait() -> None:
            await module.start(ctx)
            if self.sources[name].manifest.await_ready:
                failure = asyncio.ensure_future(ctx._failed.wait())
                ready = asyncio.ensure_future(ctx._ready.wait())
                try:
                    await asyncio.wait({failure, ready}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    failure.cancel()
                    ready.cancel()
            if rec.state is ModuleState.FAILED:
                raise RuntimeError(rec.error or "failed while starting")

        await self._async_phase("start", name, failed, start_and_wait)
        rec.state = ModuleState.RUNNING

    def module_task_failed(self, name: str, error: str, exc: BaseException | None = None) -> None:
        rec = self.records.get(name)
        if rec is None or self.shutting_down:
            return
        rec.fail(error)
        self.contexts[name]._failed.set()
        _log.error("module_failed", module=name, error=error, exc_info=exc)
        if self._started and self.config.runtime.on_module_failure == "exit":
            self.request_shutdown(exit_code=1)

    def _any_failed(self) -> bool:
        return any(r.state is ModuleState.FAILED for r in self.records.values())

    # ------------------------------------------------------------------ stop
    async def close(self) -> None:
        """Releases what a partial ``startup(until=...)`` opened."""
        await self._rollback()

    async def _rollback(self) -> None:
        self.shutting_down = True
        await self._stop_modules()
        await self._close_resources()

    async def shutdown(self) -> None:
        if self.shutting_down:
            return
        self.shutting_down = True
        _log.info("shutdown_started")
        budget = float(self.config.runtime.shutdown_budget)
        watchdog = _Watchdog(budget + 5.0)
        watchdog.start()
        t0 = time.perf_counter()
        try:
            await self._stop_modules(budget)
            await self._close_resources()
        finally:
            watchdog.cancel()
        _log.info("shutdown_completed", duration_ms=round((time.perf_counter() - t0) * 1000, 3))

    async def _stop_modules(self, budget: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        budget = float(self.config.runtime.shutdown_budget) if budget is None else budget
        budget_end = loop.time() + budget
        for name in reversed(self._start_order):
            rec, ctx, module = self.records[name], self.contexts[name], self.modules[name]
            remaining = budget_end - loop.time()
            ctx.stopping.set()
            if rec.state is not ModuleState.FAILED:
                rec.state = ModuleState.STOPPING
            if remaining > 0:
                manifest = self.sources[name].manifest
                ctx.stop_deadline = loop.time() + min(manifest.stop_timeout, remaining)
                t = time.perf_counter()
                try:
                    async with asyncio.timeout_at(ctx.stop_deadline):
                        await module.stop(ctx)
                except TimeoutError:
                    _log.warning("module_stop_timeout", module=name, seconds=round(ctx.stop_deadline - t, 3))
                except Exception as exc:
                    _log.error("module_stop_failed", module=name, error=_error_text(exc), exc_info=exc)
                rec.timings_ms["stop"] = (time.perf_counter() - t) * 1000
            await ctx._cancel_tasks(wait=1.0)
            if rec.state is not ModuleState.FAILED:
                rec.state = ModuleState.STOPPED

    async def _close_resources(self) -> None:
        for client in reversed(self._plugin_clients):
            aclose = getattr(client, "aclose", None)
            if aclose is not None:
                try:
                    result = aclose()
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    _log.warning("plugin_close_failed", error=_error_text(exc))
        self._plugin_clients.clear()
        for database in reversed(self._databases):
            with contextlib.suppress(Exception):
                await database.close()
        self._databases.clear()

    # ------------------------------------------------------------------ report
    def _report(self, ok: bool, t0: float, failed: Mapping[str, str]) -> dict[str, Any]:
        report: dict[str, Any] = {"ok": ok, "total_ms": round((time.perf_counter() - t0) * 1000, 3)}
        report.update({k: failed[k] for k in ("failed_phase", "failed_module", "error") if k in failed})
        report["modules"] = [r.report() for r in self.records.values()]
        report["plugins"] = [
            {"name": p.name, "instance_id": p.instance_id, "vendor": p.vendor, "priority": p.priority}
            for p in self.plugin_records
            if p.active
        ]
        return report


def freeze_startup_heap() -> int:
    """Collect once, then move every surviving object to the garbage collector's permanent generation.

    A started server holds a large heap (schemas, routes, compiled validators: ~245,000 objects with mini-chat) that
    lives as long as the process. Each full collection scanned all of it — about 110 ms, a pause every few hundred
    chat turns, landing on whatever request was running. Frozen, those objects are never scanned again; objects
    allocated afterwards are collected as before. Returns how many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _plain(value: Any) -> Any:
    """Config structs → plain mappings, revealing Secrets (for the db layer only; never logged)."""
    import msgspec

    from .security import Secret

    if value is None:
        return None
    if isinstance(value, msgspec.Struct):
        return {f: _plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Secret):
        return value.reveal()
    return value


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return str(exc.args[0]) if exc.args else "cancelled"
    if isinstance(exc, PhaseError | ResolutionError | ConfigError | StartupError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _Watchdog(threading.Thread):
    """Exits the process if the event loop is blocked past the shutdown budget (K-7.4)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(name="fabrikit-shutdown-watchdog", daemon=True)
        self._seconds = seconds
        self._cancelled = threading.Event()

    def run(self) -> None:
        if not self._cancelled.wait(self._seconds):
            os.write(2, b"fabrikit: shutdown budget exceeded, exiting\n")
            os._exit(1)

    def cancel(self) -> None:
        self._cancelled.set()
