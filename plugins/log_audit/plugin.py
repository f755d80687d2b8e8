"""log-audit: writes each (already redacted) mini-chat audit event as one structured log record (C-20.3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import structlog

from fabrikit.kernel import ConfigStruct, PluginDef, hookimpl
from fabrikit.modules.mini_chat.sdk import (
    AUDIT_SPEC_ID,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
)

INSTANCE_ID = AUDIT_SPEC_ID + "hyperspot.builtin.log_audit.plugin.v1"


class LogAuditConfig(ConfigStruct):
    logger: str = "fabrikit.audit"
    level: str = "info"


class LogAuditPlugin:
    """Redaction already happened in mini-chat before emission; this plugin only records."""

    def __init__(self, config: LogAuditConfig) -> None:
        self._log = structlog.get_logger(config.logger)
        self._level = config.level.lower()

    def _write(self, event: Any) -> None:
        record = msgspec.to_builtins(event)
        getattr(self._log, self._level)("audit_event", audit=record)

    async def emit_turn_audit(self, event: TurnAuditEvent) -> None:
        self._write(event)

    async def emit_turn_retry_audit(self, event: TurnMutationAuditEvent) -> None:
        self._write(event)

    async def emit_turn_edit_audit(self, event: TurnMutationAuditEvent) -> None:
        self._write(event)

    async def emit_turn_delete_audit(self, event: TurnDeleteAuditEvent) -> None:
        self._write(event)


DEFINITION = PluginDef(
    name="log-audit",
    host="mini-chat",
    spec_id=AUDIT_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=lambda pctx: LogAuditPlugin(pctx.config),
    config_type=LogAuditConfig,
    description="Writes every mini-chat audit event as one structured log record",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
