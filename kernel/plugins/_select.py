"""Lazy, cached, single-flight plugin selection and fan-out (K-10.4, K-10.5)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from ..errors import DomainError
from ._spec import CatalogEntry, CatalogNotReady, PluginCatalog, PluginNotFound, PluginSpec, PluginUnavailable

T = TypeVar("T")
R = TypeVar("R")
_log = structlog.get_logger("fabrikit.plugins")
_THROTTLE_SECONDS = 10.0


@dataclass(frozen=True)
class PluginInstance(Generic[T]):
    gts_id: str
    vendor: str
    priority: int
    client: T


@dataclass(frozen=True)
class FanoutOutcome(Generic[R]):
    gts_id: str
    result: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _well_formed(entry: CatalogEntry) -> bool:
    c = entry.content
    return (
        c.get("id") == entry.gts_id
        and isinstance(c.get("vendor"), str)
        and isinstance(c.get("priority"), int)
        and not isinstance(c.get("priority"), bool)
        and isinstance(c.get("properties"), Mapping)
    )


class PluginSelector(Generic[T]):
    def __init__(
        self,
        spec: PluginSpec,
        vendor: str | None,
        catalog: Callable[[], PluginCatalog | None],
        clients: Callable[[str], T | None],
    ) -> None:
        self.spec, self.vendor = spec, vendor
        self._catalog, self._clients = catalog, clients
        self._lock = asyncio.Lock()
        self._chosen: PluginInstance[T] | None = None
        self._warned_invalid: set[str] = set()
        self._last_unavailable_warning = 0.0

    async def get(self) -> T:
        chosen = self._chosen  # the per-request path: no second coroutine once selected
        if chosen is not None:
            return chosen.client
        return (await self.get_instance()).client

    async def get_instance(self) -> PluginInstance[T]:
        if self._chosen is not None:
            return self._chosen
        async with self._lock:
            if self._chosen is None:
                self._chosen = await self._select()
                _log.info("plugin_selected", spec=self.spec.id, instance_id=self._chosen.gts_id)
            return self._chosen

    async def get_or(self, *, not_found: type[Exception], unavailable: type[Exception]) -> T:
        """The selected client; selection failures become the host's own errors (P-0.5 step 7)."""
        try:
            return await self.get()
        except PluginNotFound as exc:
            raise not_found(str(exc)) from None
        except PluginUnavailable as exc:
            raise unavailable(str(exc)) from None

    async def call(
        self,
        fn: Callable[[T], Awaitable[R]],
        *,
        not_found: type[Exception],
        unavailable: type[Exception],
        internal: type[Exception],
        label: str,
    ) -> R:
        """Calls the selected plugin. Its domain errors pass through; any other failure drops the cached choice
        (the next call selects again) and becomes ``internal`` naming only the exception type."""
        chosen = self._chosen  # the per-request path: no further coroutines once selected
        plugin = (
            chosen.client
            if chosen is not None
            else await self.get_or(not_found=not_found, unavailable=unavailable)
        )
        try:
            return await fn(plugin)
        except DomainError:
            raise
        except Exception as exc:
            self.invalidate()
            raise internal(f"{label} plugin failed: {type(exc).__name__}") from exc

    def invalidate(self) -> None:
        """Drops the cached choice so the next call selects again (after the plugin failed)."""
        self._chosen = None

    async def _entries(self, vendor: str | None) -> list[CatalogEntry]:
        catalog = self._catalog()
        if catalog is None:
            raise self._unavailable("the types registry is not enabled")
        try:
            entries = await catalog.instances(self.spec.id + "*")
        except CatalogNotReady:
            raise self._unavailable("the types registry is not ready") from None
        kept = []
        for entry in entries:
            if not _well_formed(entry):
                if entry.gts_id not in self._warned_invalid:
                    self._warned_invalid.add(entry.gts_id)
                    _log.warning("plugin_instance_invalid", spec=self.spec.id, instance_id=entry.gts_id)
                continue
            if vendor is None or entry.content["vendor"] == vendor:
                kept.append(entry)
        kept.sort(key=lambda e: (e.content["priority"], e.gts_id))
        return kept

    async def _select(self) -> PluginInstance[T]:
        entries = await self._entries(self.vendor)
        if not entries:
            raise PluginNotFound(self.spec.id, self.vendor)
        best = entries[0]
        client = self._clients(best.gts_id)
        if client is None:
            raise self._unavailable(f"no client registered for {best.gts_id}")
        return PluginInstance(best.gts_id, best.content["vendor"], best.content["priority"], client)

    async def all(self, vendor: str | None = None) -> list[PluginInstance[T]]:
        """Every matching instance that has a client, ordered by (priority, id); never cached."""
        result = []
        for entry in await self._entries(vendor):
            client = self._clients(entry.gts_id)
            if client is not None:
                result.append(
                    PluginInstance(entry.gts_id, entry.content["vendor"], entry.content["priority"], client)
                )
        return result

    def _unavailable(self, reason: str) -> PluginUnavailable:
        now = time.monotonic()
        if now - self._last_unavailable_warning >= _THROTTLE_SECONDS:
            self._last_unavailable_warning = now
            _log.warning("plugin_unavailable", spec=self.spec.id, reason=reason)
        return PluginUnavailable(self.spec.id, reason)


async def fanout(
    instances: Sequence[PluginInstance[T]],
    fn: Callable[[T], Awaitable[R]],
    timeout: float = 30.0,
) -> list[FanoutOutcome[R]]:
    """Calls every instance concurrently; one failure or timeout never affects the others."""

    async def one(inst: PluginInstance[T]) -> FanoutOutcome[R]:
        try:
            async with asyncio.timeout(timeout):
                return FanoutOutcome(inst.gts_id, result=await fn(inst.client))
        except Exception as exc:  # isolated per instance by design
            return FanoutOutcome(inst.gts_id, error=exc)

    return list(await asyncio.gather(*(one(i) for i in instances)))


def fanout_result_summary(outcomes: Sequence[FanoutOutcome[Any]]) -> dict[str, int]:
    ok = sum(1 for o in outcomes if o.ok)
    return {"ok": ok, "failed": len(outcomes) - ok}
