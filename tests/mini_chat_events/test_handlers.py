"""The CI-10 handlers in isolation: results for every plugin outcome, metrics, decoding (no database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from prometheus_client import REGISTRY

from fabrikit.kernel.outbox import OutboxMessage, Reject, Retry, Success
from fabrikit.modules.mini_chat.domain.dedupe import turn_dedupe_key
from fabrikit.modules.mini_chat.domain.ports import AuditEnvelope
from fabrikit.modules.mini_chat.infra.handlers import AuditHandler, UsageHandler, decode_audit
from fabrikit.modules.mini_chat.infra.outbox import AUDIT_QUEUE, USAGE_QUEUE
from fabrikit.modules.mini_chat.infra.telemetry import prometheus_telemetry
from fabrikit.modules.mini_chat.sdk import (
    LatencyMs,
    PolicyDecisions,
    PublishPermanentError,
    PublishTransientError,
    QuotaDecision,
    TurnAuditEvent,
    TurnMutationAuditEvent,
    UsageEvent,
)
from tests.mini_chat_engine.fakes import FakePolicy

from .fakes import AuditPermanentError, AuditTransientError, RecordingAudit, StaticAuditSelector

PREFIX = "mini_chat_handlers_test"
TM = prometheus_telemetry(PREFIX)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"{PREFIX}_{name}_total", labels) or 0.0


def message(queue: str, payload: Any) -> OutboxMessage:
    body = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
    return OutboxMessage(queue, 0, 1, 1, body, "t", datetime.now(UTC), 0)


def usage_event() -> UsageEvent:
    tenant, turn, request = uuid4(), uuid4(), uuid4()
    return UsageEvent(
        tenant_id=tenant,
        chat_id=uuid4(),
        request_id=request,
        requester_type="user",
        selected_model="m",
        effective_model="m",
        billing_outcome="completed",
        settlement_method="actual",
        committed_credits_micro=5,
        actual_credits_micro=5,
        overshoot_capped=False,
        quota_decision="allow",
        web_search_calls=0,
        code_interpreter_calls=0,
        timestamp=datetime.now(UTC),
        dedupe_key=turn_dedupe_key(tenant, turn, request),
        turn_id=turn,
    )


def turn_envelope() -> AuditEnvelope:
    return AuditEnvelope(
        type="turn",
        event=TurnAuditEvent(
            event_id=uuid4(),
            event_type="turn_completed",
            timestamp=datetime.now(UTC),
            tenant_id=uuid4(),
            requester_type="user",
            user_id=uuid4(),
            chat_id=uuid4(),
            turn_id=uuid4(),
            request_id=uuid4(),
            terminal_state="completed",
            selected_model="m",
            effective_model="m",
            latency_ms=LatencyMs(),
            policy_decisions=PolicyDecisions(quota=QuotaDecision(decision="allow")),
        ),
    )


class Source:
    def __init__(self, plugin: Any = None, error: Exception | None = None) -> None:
        self.plugin, self.error, self.invalidated = plugin, error, 0

    async def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.plugin

    def invalidate(self) -> None:
        self.invalidated += 1


class ScriptedPolicy(FakePolicy):
    def __init__(self, *errors: Exception) -> None:
        super().__init__()
        self.errors = list(errors)

    async def publish_usage(self, event: UsageEvent) -> None:
        if self.errors:
            raise self.errors.pop(0)
        await super().publish_usage(event)


async def test_usage_success_publishes_the_event_with_its_dedupe_key() -> None:
    policy, event = ScriptedPolicy(), usage_event()
    result = await UsageHandler(Source(policy), TM)(message(USAGE_QUEUE, event))
    assert result == Success()
    assert policy.published == [event]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PublishTransientError("later"), Retry),
        (RuntimeError("boom"), Retry),
        (PublishPermanentError(), Reject),
    ],
)
async def test_usage_plugin_errors(error: Exception, expected: type) -> None:
    source = Source(ScriptedPolicy(error))
    result = await UsageHandler(source, TM)(message(USAGE_QUEUE, usage_event()))
    assert isinstance(result, expected)
    # transient failures re-resolve the plugin (C-17: re-chosen after a failure)
    assert source.invalidated == (1 if expected is Retry else 0)


async def test_usage_unresolved_plugin_retries_and_garbage_is_rejected() -> None:
    assert isinstance(
        await UsageHandler(Source(error=LookupError("no plugin")))(message(USAGE_QUEUE, usage_event())), Retry
    )
    handler = UsageHandler(Source(ScriptedPolicy()))
    assert isinstance(await handler(message(USAGE_QUEUE, b"{not json")), Reject)
    wrong_tenant = msgspec.structs.replace(usage_event(), tenant_id=uuid4())
    assert isinstance(await handler(message(USAGE_QUEUE, wrong_tenant)), Reject)


async def test_audit_fans_out_to_every_plugin() -> None:
    a, b = RecordingAudit(), RecordingAudit()
    envelope = turn_envelope()
    before = sample("audit_emit", result="ok")
    result = await AuditHandler(StaticAuditSelector(a, b), "hyperspot", 1.0, TM)(
        message(AUDIT_QUEUE, envelope)
    )
    assert result == Success()
    assert a.events == [envelope.event]
    assert b.events == [envelope.event]
    assert sample("audit_emit", result="ok") == before + 2


async def test_audit_permanent_rejection_does_not_block_the_others() -> None:
    bad, good = RecordingAudit(), RecordingAudit()
    bad.fail = [AuditPermanentError("never")]
    before = sample("audit_emit", result="reject")
    result = await AuditHandler(StaticAuditSelector(bad, good), "hyperspot", 1.0, TM)(
        message(AUDIT_QUEUE, turn_envelope())
    )
    assert result == Success()
    assert len(good.events) == 1
    assert bad.events == []
    assert sample("audit_emit", result="reject") == before + 1


async def test_audit_transient_or_timeout_retries_the_event() -> None:
    flaky, slow, good = RecordingAudit(), RecordingAudit(), RecordingAudit()
    flaky.fail = [AuditTransientError("later")]
    slow.gate = asyncio.Event()  # never set: the call timeout makes it transient
    handler = AuditHandler(StaticAuditSelector(flaky, slow, good), "hyperspot", 0.05, TM)
    before = sample("audit_emit", result="retry")
    result = await handler(message(AUDIT_QUEUE, turn_envelope()))
    assert isinstance(result, Retry)
    assert sample("audit_emit", result="retry") == before + 2
    slow.gate.set()
    # The redelivery reaches everyone again; the plugin that accepted dedupes on event_id.
    assert await handler(message(AUDIT_QUEUE, turn_envelope())) == Success()
    assert len(good.events) == 2
    assert len(flaky.events) == 1


async def test_audit_without_plugins_is_acknowledged_and_counted_skipped() -> None:
    before = sample("audit_emit", result="skipped")
    result = await AuditHandler(StaticAuditSelector(), "hyperspot", 1.0, TM)(
        message(AUDIT_QUEUE, turn_envelope())
    )
    assert result == Success()
    assert sample("audit_emit", result="skipped") == before + 1


async def test_audit_other_vendor_is_not_called_and_garbage_is_rejected() -> None:
    plugin = RecordingAudit()
    selector = StaticAuditSelector(plugin, vendor="acme")
    assert await AuditHandler(selector, "hyperspot", 1.0)(message(AUDIT_QUEUE, turn_envelope())) == Success()
    assert plugin.calls == 0
    assert isinstance(await AuditHandler(selector, "acme", 1.0)(message(AUDIT_QUEUE, b"[]")), Reject)
    unknown = b'{"type": "nope", "event": {}}'
    assert isinstance(await AuditHandler(selector, "acme", 1.0)(message(AUDIT_QUEUE, unknown)), Reject)


async def test_mutation_events_reach_the_matching_method() -> None:
    seen: list[str] = []

    class Methods(RecordingAudit):
        async def emit_turn_retry_audit(self, event: TurnMutationAuditEvent) -> None:
            seen.append("retry")

        async def emit_turn_edit_audit(self, event: TurnMutationAuditEvent) -> None:
            seen.append("edit")

    for kind in ("turn_edit", "turn_retry"):
        envelope = AuditEnvelope(
            type="mutation",
            event=TurnMutationAuditEvent(
                event_id=uuid4(),
                event_type=kind,  # type: ignore[arg-type]
                timestamp=datetime.now(UTC),
                tenant_id=uuid4(),
                requester_type="user",
                actor_user_id=uuid4(),
                chat_id=uuid4(),
                turn_id=uuid4(),
                original_request_id=uuid4(),
                new_request_id=uuid4(),
            ),
        )
        payload = msgspec.json.encode(envelope)
        assert decode_audit(payload) == envelope
        await AuditHandler(StaticAuditSelector(Methods()), "hyperspot", 1.0)(message(AUDIT_QUEUE, payload))
    assert seen == ["edit", "retry"]
