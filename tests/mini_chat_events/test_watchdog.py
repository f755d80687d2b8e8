"""Orphan watchdog (CI-14.2, T15.06, T19.04/05/07): a hung provider, a short timeout, one `failed` /
`orphan_timeout` settlement billed as estimated with exactly one usage and one audit event — on SQLite and
PostgreSQL, and with two server processes sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from fabrikit.kernel.db import Database
from fabrikit.modules.mini_chat.config import MiniChatConfig, OrphanWatchdogConfig
from fabrikit.modules.mini_chat.domain.credits import credits_micro
from fabrikit.modules.mini_chat.domain.service_api import SendMessageBody
from tests.mini_chat_engine.helpers import drain, names

from .conftest import EventsEnv, eventually

ROOT = Path(__file__).resolve().parents[2]
SHORT = OrphanWatchdogConfig(timeout_seconds=1, scan_interval_seconds=0.2, batch_size=2)


@pytest.fixture
def config() -> MiniChatConfig:
    # Below the 90 s minimum on purpose: constructed directly, not through the validated config loader.
    return MiniChatConfig(orphan_watchdog=SHORT)


async def hang_turns(env: EventsEnv, count: int) -> list[Any]:
    """``count`` running turns whose provider sent one delta and then hangs (no progress, no heartbeat)."""
    env.provider.gate = asyncio.Event()
    handles = []
    for i in range(count):
        chat = await env.chat()
        start = await env.engine.send_message(env.ctx(), chat, SendMessageBody(content=f"hang {i}"))
        handles.append(start.handle)
    await eventually(lambda: len(env.provider.requests) == count, what="provider calls")
    return handles


async def assert_orphans_settled_once(env: EventsEnv, count: int) -> None:
    turns = await env.rows("SELECT * FROM chat_turns")
    assert len(turns) == count
    for t in turns:
        assert (t["state"], t["error_code"], t["settlement_method"]) == (
            "failed",
            "orphan_timeout",
            "estimated",
        )
        est_in = max(int(t["reserve_tokens"]) - int(t["max_output_tokens_applied"]), 0)
        expected = credits_micro(
            est_in,
            int(t["minimal_generation_floor_applied"]),
            int(t["input_multiplier_micro"]),
            int(t["output_multiplier_micro"]),
        )
        assert int(t["committed_credits_micro"]) == expected
        assert t["assistant_message_id"] is None
    assert await env.rows("SELECT id FROM messages WHERE role = 'assistant'") == []
    quota = await env.rows("SELECT * FROM quota_usage WHERE bucket = 'total'")
    assert all(int(r["reserved_credits_micro"]) == 0 for r in quota)
    spent = {r["period_type"]: int(r["spent_credits_micro"]) for r in quota}
    total = sum(int(t["committed_credits_micro"]) for t in turns)
    assert spent == {"daily": total, "monthly": total}
    # Exactly one usage and one audit event per orphan, whatever raced.
    await eventually(
        lambda: len(env.policy.published) >= count and len(env.audit.events) >= count, what="orphan events"
    )
    await asyncio.sleep(0.5)
    ids = {UUID(str(t["id"])) for t in turns}
    assert sorted(e.turn_id for e in env.policy.published) == sorted(ids)
    assert all(
        (e.billing_outcome, e.settlement_method) == ("aborted", "estimated") for e in env.policy.published
    )
    assert sorted(e.turn_id for e in env.audit.events) == sorted(ids)
    for event in env.audit.events:
        assert (event.event_type, event.terminal_state, event.error_code) == (
            "turn_failed",
            "failed",
            "orphan_timeout",
        )
        assert event.prompt is not None
        assert event.prompt.startswith("hang ")


async def release(env: EventsEnv, handles: list[Any]) -> None:
    """The hung provider wakes up: each producer loses the CAS and sends no terminal event (CI-5.4)."""
    assert env.provider.gate is not None
    env.provider.gate.set()
    for handle in handles:
        got = names(await drain(handle))
        assert not {"done", "error"} & set(got), got


async def test_watchdog_finalizes_a_hung_turn_once(env: EventsEnv) -> None:
    background = await env.start(watchdog=True)
    handles = await hang_turns(env, 3)  # batch_size 2: a second scan picks up the third, oldest first
    for _ in range(600):  # the singleton leader scans every 0.2 s
        if len(await env.rows("SELECT id FROM chat_turns WHERE state = 'failed'")) == 3:
            break
        await asyncio.sleep(0.05)
    await release(env, handles)
    await assert_orphans_settled_once(env, 3)
    assert await background.watchdog.scan_once() == 0  # nothing left; terminal turns never change


async def test_a_live_turn_with_progress_is_not_an_orphan(env: EventsEnv, db: Database) -> None:
    await env.start()
    handles = await hang_turns(env, 1)
    # A fresh heartbeat after the scan read its cutoff: the staleness test inside the CAS refuses the orphan.
    watchdog = env.background.watchdog  # type: ignore[union-attr]
    await asyncio.sleep(1.2)
    cutoff = await watchdog.cutoff()
    (candidate,) = await watchdog.candidates(cutoff)
    turn = await env.engine.store.turns.get(candidate.tenant_id, candidate.turn_id)
    assert turn is not None
    assert await env.engine.store.turns.heartbeat(turn.tenant_id, turn.id, env.engine.clock.now())
    assert not await watchdog._finalize(candidate, cutoff)
    rows = await env.rows("SELECT state FROM chat_turns")
    assert [r["state"] for r in rows] == ["running"]
    assert env.provider.gate is not None
    env.provider.gate.set()
    items = await drain(handles[0])
    assert names(items)[-1] == "done"
