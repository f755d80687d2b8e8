"""Port fakes for delivery tests: recording audit plugins (the C-18 extension point) and a static audit
selector returning kernel ``PluginInstance``s, as ``PluginSelector.all`` does."""

from __future__ import annotations

import asyncio
from typing import Any

from fabrikit.kernel.plugins import PluginInstance
from fabrikit.modules.mini_chat.sdk import (
    AuditPermanentError,
    AuditTransientError,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
)


class RecordingAudit:
    """Records every accepted event; ``fail`` scripts failures (exceptions raised in order before accepting)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.fail: list[BaseException] = []
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set, calls block until it is set (a hung sink)

    async def _accept(self, event: Any) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise self.fail.pop(0)
        self.events.append(event)

    async def emit_turn_audit(self, event: TurnAuditEvent) -> None:
        await self._accept(event)

    async def emit_turn_retry_audit(self, event: TurnMutationAuditEvent) -> None:
        await self._accept(event)

    async def emit_turn_edit_audit(self, event: TurnMutationAuditEvent) -> None:
        await self._accept(event)

    async def emit_turn_delete_audit(self, event: TurnDeleteAuditEvent) -> None:
        await self._accept(event)


class StaticAuditSelector:
    def __init__(self, *plugins: Any, vendor: str = "hyperspot") -> None:
        self.plugins = list(plugins)
        self.vendor = vendor

    async def all(self, vendor: str | None = None) -> list[PluginInstance[Any]]:
        return [
            PluginInstance(f"test.audit.{i}", self.vendor, 100 + i, p)
            for i, p in enumerate(self.plugins)
            if vendor in (None, self.vendor)
        ]


__all__ = ["AuditPermanentError", "AuditTransientError", "RecordingAudit", "StaticAuditSelector"]
