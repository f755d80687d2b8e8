"""A third-party audit plugin: one JSON line per mini-chat audit event.

It implements `MiniChatAuditPluginV1` from mini-chat's SDK, registers itself through the `fabrikit` entry-point group
and takes its config from `plugins.jsonl-audit.config` in the fabrikit YAML file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from fabrikit.kernel import ConfigStruct, PluginContext, PluginDef, hookimpl
from fabrikit.modules.mini_chat.sdk import (
    AUDIT_SPEC_ID,
    AuditTransientError,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
)

INSTANCE_ID = AUDIT_SPEC_ID + "example.jsonl.audit.plugin.v1"


class JsonlAuditConfig(ConfigStruct):
    path: str = ""  # empty: <home>/plugins/jsonl-audit/audit.jsonl

    def validate(self) -> None:
        if self.path and not self.path.endswith(".jsonl"):
            raise ValueError("path must end with .jsonl")


class JsonlAuditPlugin:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._encoder = msgspec.json.Encoder()

    async def _append(self, event: msgspec.Struct) -> None:
        line = self._encoder.encode(event) + b"\n"
        async with self._lock:  # one writer at a time keeps lines whole
            try:
                await asyncio.to_thread(self._write, line)
            except OSError as exc:
                raise AuditTransientError(f"cannot write {self.path.name}: {exc.strerror}") from None

    def _write(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(line)

    async def emit_turn_audit(self, event: TurnAuditEvent) -> None:
        await self._append(event)

    async def emit_turn_retry_audit(self, event: TurnMutationAuditEvent) -> None:
        await self._append(event)

    async def emit_turn_edit_audit(self, event: TurnMutationAuditEvent) -> None:
        await self._append(event)

    async def emit_turn_delete_audit(self, event: TurnDeleteAuditEvent) -> None:
        await self._append(event)


def _factory(pctx: PluginContext) -> JsonlAuditPlugin:
    config: JsonlAuditConfig = pctx.config
    path = Path(config.path) if config.path else pctx.home_dir / "audit.jsonl"
    return JsonlAuditPlugin(path)


DEFINITION = PluginDef(
    name="jsonl-audit",
    host="mini-chat",
    spec_id=AUDIT_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    config_type=JsonlAuditConfig,
    description="Writes mini-chat audit events to a JSON-lines file",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
