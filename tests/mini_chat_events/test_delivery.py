"""Usage and audit events through the real outbox (CI-10, C-18.1, C-19): exactly one of each per reserved turn,
one audit per mutation, nothing lost when the process dies between commit and delivery (T15.09, T15.10)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from fabrikit.kernel.db import Database, DbSettings, open_database
from fabrikit.modules.mini_chat.config import MiniChatConfig, OutboxConfig
from fabrikit.modules.mini_chat.domain.dedupe import is_dedupe_key, turn_dedupe_key
from fabrikit.modules.mini_chat.domain.provider_events import Failed
from fabrikit.modules.mini_chat.domain.service_api import EditTurnBody
from fabrikit.modules.mini_chat.infra.outbox import USAGE_QUEUE
from fabrikit.modules.mini_chat.sdk import PublishPermanentError, PublishTransientError, UsageEvent
from tests.mini_chat_engine.fakes import FakePolicy

from .conftest import EventsEnv, eventually, make_engine


def turn_audits(env: EventsEnv) -> list[object]:
    return [
        e
        for e in env.audit.events
        if getattr(e, "event_type", "").startswith("turn_") and hasattr(e, "user_id")
    ]


async def run_turn_mix(env: EventsEnv) -> None:
    """4 reserved turns (completed, retried, edited, failed) + retry, edit and delete mutations."""
    chat = await env.chat()
    await env.turn(chat, "first")
    first = (await env.rows("SELECT request_id FROM chat_turns"))[0]["request_id"]
    from uuid import UUID

    retried = await env.engine.retry_turn(env.ctx(), chat, UUID(str(first)))
    await _drain(retried)
    latest = await env.engine.store.turns.latest(env.tenant, chat)
    assert latest is not None
    edited = await env.engine.edit_turn(env.ctx(), chat, latest.request_id, EditTurnBody(content="second"))
    await _drain(edited)
    latest = await env.engine.store.turns.latest(env.tenant, chat)
    assert latest is not None
    await env.engine.delete_turn(env.ctx(), chat, latest.request_id)
    env.provider.scripts = [[Failed(code="provider_error", message="upstream broke")]]
    await env.turn(chat, "third")


async def _drain(start: object) -> None:
    from tests.mini_chat_engine.helpers import drain

    await drain(start.handle)  # type: ignore[attr-defined]


async def assert_one_event_each(env: EventsEnv, published: list[UsageEvent]) -> None:
    turns = await env.rows("SELECT id, tenant_id, request_id FROM chat_turns")
    assert len(turns) == 4
    keys = Counter(e.dedupe_key for e in published)
    assert all(n == 1 for n in keys.values()), keys
    from uuid import UUID

    expected = {
        turn_dedupe_key(UUID(str(t["tenant_id"])), UUID(str(t["id"])), UUID(str(t["request_id"])))
        for t in turns
    }
    assert set(keys) == expected
    assert all(is_dedupe_key(k) for k in keys)
    audits = turn_audits(env)
    assert Counter(a.turn_id for a in audits) == Counter(UUID(str(t["id"])) for t in turns)  # type: ignore[attr-defined]
    kinds = Counter(getattr(e, "event_type", "") for e in env.audit.events)
    assert kinds["turn_retry"] == 1
    assert kinds["turn_edit"] == 1
    assert kinds["turn_delete"] == 1
    assert len({e.event_id for e in env.audit.events}) == len(env.audit.events)


async def test_one_usage_and_one_audit_event_per_reserved_turn(env: EventsEnv) -> None:
    await env.start()
    await run_turn_mix(env)
    await eventually(lambda: len(env.policy.published) >= 4 and len(env.audit.events) >= 7, what="deliveries")
    await asyncio.sleep(0.5)  # a duplicate would arrive within a few polls
    await assert_one_event_each(env, env.policy.published)
    failed = [e for e in env.policy.published if e.terminal_state == "failed"]
    assert len(failed) == 1
    assert failed[0].error_code == "provider_error"


class BlockedPolicy(FakePolicy):
    """A policy plugin whose ``publish_usage`` never returns (the process dies mid-delivery)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def publish_usage(self, event: UsageEvent) -> None:
        self.attempts += 1
        await asyncio.Event().wait()


@pytest.mark.parametrize("first_process", ["never_delivers", "blocked_in_handler"])
async def test_nothing_lost_when_the_process_dies_between_commit_and_delivery(
    first_process: str, db: Database, db_settings: DbSettings, module_name: str, tmp_path: Path
) -> None:
    # A short lease so the second process takes over the first one's leased partitions quickly.
    config = MiniChatConfig(outbox=OutboxConfig(lease_seconds=3, audit_call_timeout_seconds=0.5))
    first = EventsEnv(db, config, module_name)
    blocked = BlockedPolicy()
    if first_process == "blocked_in_handler":
        first.policy = blocked
        first.engine = make_engine(db, config, first.provider, blocked)
        first.audit.gate = asyncio.Event()
    await first.start(deliver=first_process == "blocked_in_handler")
    await run_turn_mix(first)
    if first_process == "blocked_in_handler":
        await eventually(lambda: blocked.attempts > 0 and first.audit.calls > 0, what="blocked delivery")
    await first.stop()
    assert first.policy.published == []
    assert first.audit.events == []

    # The restarted process: another connection pool over the same file / schema, the real handlers.
    again = await open_database(module_name, db_settings)
    second = EventsEnv(again, config, module_name)
    second.tenant, second.user = first.tenant, first.user
    try:
        await second.start()
        await eventually(
            lambda: len(second.policy.published) >= 4 and len(second.audit.events) >= 7,
            timeout=20,
            what="redelivery after restart",
        )
        await asyncio.sleep(0.5)
        await assert_one_event_each(second, second.policy.published)
    finally:
        await second.stop()
        await again.close()


class FlakyPolicy(FakePolicy):
    def __init__(self, errors: list[Exception]) -> None:
        super().__init__()
        self.errors = errors

    async def publish_usage(self, event: UsageEvent) -> None:
        if self.errors:
            raise self.errors.pop(0)
        await super().publish_usage(event)


async def test_transient_failures_are_retried_and_permanent_ones_dead_lettered(env: EventsEnv) -> None:
    flaky = FlakyPolicy([PublishTransientError("later"), RuntimeError("blip"), PublishPermanentError("no")])
    env.policy = flaky
    env.engine = make_engine(env.db, env.config, env.provider, env.policy)
    background = await env.start()
    chat = await env.chat()
    await env.turn(chat, "one")  # transient, transient, permanent → dead letter
    await eventually(lambda: not flaky.errors, what="three attempts")
    await env.turn(chat, "two")  # delivered
    await eventually(lambda: len(env.policy.published) == 1, what="second event")
    dead = await background.outbox.dead_letters.list(queue=USAGE_QUEUE)
    assert len(dead) == 1
    assert dead[0].attempts >= 3
    import msgspec

    lost = msgspec.json.decode(dead[0].payload, type=UsageEvent)
    assert lost.dedupe_key != env.policy.published[0].dedupe_key
