"""Send, replay, idempotency and the running guard on both engines (C-8, C-10, CI-3, CI-5)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from fabrikit.modules.mini_chat.domain.errors import (
    ChatNotFound,
    GenerationInProgress,
    QuotaExceeded,
    RequestIdConflict,
    ValidationFailed,
    WebSearchDisabled,
)
from fabrikit.modules.mini_chat.domain.service_api import (
    ChatDetail,
    CreateChatBody,
    ListParams,
    SendMessageBody,
    WebSearchOption,
)
from fabrikit.modules.mini_chat.domain.sse import Delta, Done, is_valid_stream
from fabrikit.modules.mini_chat.sdk import KillSwitches, TierLimits

from .conftest import Env
from .helpers import drain, names


async def _chat(env: Env) -> ChatDetail:
    return await env.engine.create_chat(env.ctx(), CreateChatBody(title="  hello  "))


async def test_send_streams_and_persists(env: Env) -> None:
    chat = await _chat(env)
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    assert start.replay is False
    items = await drain(start.handle)
    assert is_valid_stream(names(items))
    assert names(items) == ["stream_started", "delta", "delta", "done"]
    assert items[0].request_id == rid
    assert items[0].is_new_turn
    done = items[-1]
    assert isinstance(done, Done)
    assert done.usage is not None
    assert done.usage.model == "prem"
    assert done.quota_decision == "allow"
    assert done.quota_warnings is not None
    page = await env.engine.list_messages(env.ctx(), chat.id, ListParams())
    assert [m.role for m in page.items] == ["user", "assistant"]
    assert page.items[1].content == "Hello world"
    assert page.items[1].id == items[0].message_id
    assert {m.request_id for m in page.items} == {rid}
    assert page.items[1].input_tokens == 10
    assert page.items[0].my_reaction is None
    status = await env.engine.turn_status(env.ctx(), chat.id, rid)
    assert status.state == "done"
    assert status.assistant_message_id == items[0].message_id
    # one usage + one audit row; reserve released, spent = actual credits
    assert await env.count("modkit_outbox_body") == 2
    quota = await env.engine.quota_status(env.ctx())
    total_daily = next(t for t in quota.tiers if t.tier == "total").periods[0]
    # premium multipliers 3 / 15 per token: ceil(10*3) + ceil(5*15) = 105 µc
    assert total_daily.used_credits_micro == 105
    row = await env.db.fetch_one("SELECT SUM(reserved_credits_micro) AS r FROM quota_usage")
    assert row is not None
    assert int(row["r"]) == 0
    assert [w.tier for w in done.quota_warnings] == ["premium", "premium", "total", "total"]


async def test_replay_is_identical_and_side_effect_free(env: Env) -> None:
    chat = await _chat(env)
    rid = uuid4()
    first = await drain(
        (
            await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
        ).handle
    )
    outbox_rows = await env.count("modkit_outbox_body")
    calls = len(env.provider.requests)
    replays = []
    for _ in range(2):
        start = await env.engine.send_message(
            env.ctx(), chat.id, SendMessageBody(content="other", request_id=rid)
        )
        assert start.replay
        replays.append(await drain(start.handle))
    assert replays[0] == replays[1]
    assert names(replays[0]) == ["stream_started", "delta", "done"]
    assert replays[0][0].is_new_turn is False
    assert replays[0][0].message_id == first[0].message_id
    assert isinstance(replays[0][1], Delta)
    assert replays[0][1].content == "Hello world"
    assert await env.count("modkit_outbox_body") == outbox_rows
    assert len(env.provider.requests) == calls


async def test_rejections_leave_no_trace(env: Env) -> None:
    chat = await _chat(env)
    with pytest.raises(ValidationFailed):
        await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="   "))
    with pytest.raises(ValidationFailed):
        await env.engine.send_message(
            env.ctx(), chat.id, SendMessageBody(content="x", attachment_ids=[uuid4()] * 2)
        )
    with pytest.raises(ChatNotFound):
        await env.engine.send_message(env.ctx(), uuid4(), SendMessageBody(content="x"))
    with pytest.raises(ChatNotFound):  # another user of the same tenant
        await env.engine.send_message(env.ctx(user=uuid4()), chat.id, SendMessageBody(content="x"))
    with pytest.raises(ChatNotFound):  # another tenant
        await env.engine.get_chat(env.ctx(tenant=uuid4()), chat.id)
    env.policy.kill = KillSwitches(disable_web_search=True)
    env.refresh_policy()
    with pytest.raises(WebSearchDisabled):
        await env.engine.send_message(
            env.ctx(), chat.id, SendMessageBody(content="x", web_search=WebSearchOption(enabled=True))
        )
    env.policy.kill = KillSwitches()
    env.policy.premium = TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1)
    env.policy.standard = TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1)
    env.refresh_policy()
    with pytest.raises(QuotaExceeded) as exc:
        await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x"))
    assert exc.value.quota_scope == "tokens"
    assert await env.count("chat_turns") == 0
    assert await env.count("messages") == 0
    assert await env.count("modkit_outbox_body") == 0
    row = await env.db.fetch_one("SELECT COALESCE(SUM(reserved_credits_micro), 0) AS r FROM quota_usage")
    assert row is not None
    assert int(row["r"]) == 0
    assert env.provider.requests == []


async def test_premium_exhausted_downgrades_to_standard(env: Env) -> None:
    chat = await _chat(env)
    env.policy.premium = TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1)
    env.refresh_policy()
    items = await drain(
        (await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x"))).handle
    )
    done = items[-1]
    assert done.effective_model == "std"
    assert done.quota_decision == "downgrade"
    assert done.downgrade_from == "prem"
    assert done.downgrade_reason == "premium_quota_exhausted"


async def test_running_guard_and_conflicts(env: Env) -> None:
    chat = await _chat(env)
    env.provider.gate = asyncio.Event()
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    await env.provider.started.wait()
    status = await env.engine.turn_status(env.ctx(), chat.id, rid)
    assert status.state == "running"
    with pytest.raises(RequestIdConflict):
        await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    with pytest.raises(GenerationInProgress):
        await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi"))
    env.provider.gate.set()
    await drain(start.handle)
    await drain((await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="again"))).handle)


async def test_concurrent_sends_one_wins(env: Env) -> None:
    chat = await _chat(env)
    env.provider.gate = asyncio.Event()
    results = await asyncio.gather(
        *(env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content=f"m{i}")) for i in range(2)),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert len(losses) == 1
    assert isinstance(losses[0], GenerationInProgress)
    env.provider.gate.set()
    await drain(wins[0].handle)
    assert await env.count("chat_turns") == 1
    assert await env.count("messages", "role = 'user'") == 1
