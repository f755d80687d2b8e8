"""Cancellation, crashes, failures and the single CAS finalizer (CI-4, CI-5, CI-6)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from fabrikit.modules.mini_chat.domain.finalizer import TurnContext
from fabrikit.modules.mini_chat.domain.provider_events import Failed, TextDelta, ToolStart
from fabrikit.modules.mini_chat.domain.service_api import CreateChatBody, ListParams, SendMessageBody
from fabrikit.modules.mini_chat.domain.sse import ErrorEvent, is_valid_stream
from fabrikit.modules.mini_chat.domain.turns import Ending

from .conftest import Env
from .helpers import drain, names


async def _turn(env: Env, rid: Any) -> dict[str, Any]:
    row = await env.db.fetch_one(
        "SELECT id, state, error_code, settlement_method, committed_credits_micro, assistant_message_id "
        "FROM chat_turns WHERE request_id = {}",
        rid,
    )
    assert row is not None
    return row


async def _reserved(env: Env) -> int:
    row = await env.db.fetch_one("SELECT COALESCE(SUM(reserved_credits_micro), 0) AS r FROM quota_usage")
    assert row is not None
    return int(row["r"])


async def test_disconnect_cancels_keeps_partial_text(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.gate = asyncio.Event()  # the provider hangs after its first delta
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    handle = start.handle
    handle.attach()
    assert names([await handle.get(5), await handle.get(5)]) == ["stream_started", "delta"]
    handle.cancel("client_disconnect")  # what the relay's finally does
    await env.engine.runner.wait_idle(5)
    assert env.provider.cancelled == 1
    assert env.provider.closed == 1
    turn = await _turn(env, rid)
    assert turn["state"] == "cancelled"
    assert turn["settlement_method"] == "estimated"
    page = await env.engine.list_messages(env.ctx(), chat.id, ListParams())
    assert [m.content for m in page.items] == ["hi", "Hello"]
    assert await _reserved(env) == 0
    assert await env.count("modkit_outbox_body") == 2
    status = await env.engine.turn_status(env.ctx(), chat.id, rid)
    assert status.state == "cancelled"


async def test_cancel_before_dispatch_is_released(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.scripts = [[5.0, TextDelta("late")]]
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    start.handle.cancel("client_disconnect")
    await env.engine.runner.wait_idle(5)
    turn = await _turn(env, rid)
    assert turn["state"] == "cancelled"
    # the fake marks dispatched when its generator starts; a cancel before the first step never dispatches
    assert turn["settlement_method"] in ("released", "estimated")
    assert await env.count("messages", "role = 'assistant'") == 0
    assert await _reserved(env) == 0


async def test_producer_crash_finalizes_failed(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.scripts = [[TextDelta("par"), RuntimeError("adapter bug")]]
    rid = uuid4()
    items = await drain(
        (
            await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x", request_id=rid))
        ).handle
    )
    assert is_valid_stream(names(items))
    assert isinstance(items[-1], ErrorEvent)
    assert items[-1].code == "internal_error"
    turn = await _turn(env, rid)
    assert turn["state"] == "failed"
    assert turn["error_code"] == "internal_error"
    assert turn["assistant_message_id"] is None
    assert await env.count("messages", "role = 'assistant'") == 0
    assert await _reserved(env) == 0


async def test_provider_failure_before_generation_is_released(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.scripts = [[Failed(code="rate_limited", message="slow down")]]
    rid = uuid4()
    items = await drain(
        (
            await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x", request_id=rid))
        ).handle
    )
    assert items[-1].code == "rate_limited"
    turn = await _turn(env, rid)
    assert turn["state"] == "failed"
    assert turn["error_code"] == "rate_limited"
    assert turn["settlement_method"] == "estimated"  # dispatched, no usage
    status = await env.engine.turn_status(env.ctx(), chat.id, rid)
    assert status.state == "error"
    assert status.error_code == "rate_limited"


async def test_tool_limit_breach_fails_turn(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    limit = env.engine.config.quota.web_search_max_calls_per_message
    env.provider.scripts = [[TextDelta("a")] + [ToolStart("web_search")] * (limit + 1) + [TextDelta("never")]]
    rid = uuid4()
    items = await drain(
        (
            await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x", request_id=rid))
        ).handle
    )
    assert items[-1].code == "web_search_calls_exceeded"
    assert names(items).count("tool") == limit
    assert env.provider.closed == 1


async def test_racing_finalizers_settle_once(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.gate = asyncio.Event()
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    await env.provider.started.wait()
    turn = await _turn(env, rid)
    user_msg = await env.db.fetch_one("SELECT id, created_at FROM messages WHERE role = 'user'")
    assert user_msg is not None
    from fabrikit.modules.mini_chat.infra.sql import ts_of, uuid_of

    ctx = TurnContext(
        tenant_id=env.tenant,
        user_id=env.user,
        chat_id=chat.id,
        turn_id=uuid_of(turn["id"]),
        request_id=rid,
        user_message_id=uuid_of(user_msg["id"]),
        user_message_created_at=ts_of(user_msg["created_at"]),
        assistant_message_id=uuid4(),
        selected_model=chat.model,
    )
    results = await asyncio.gather(
        *(env.engine.finalizer.finalize(ctx, Ending(kind="orphan")) for _ in range(3))
    )
    assert sum(r.won for r in results) == 1
    env.provider.gate.set()
    items = await drain(start.handle)
    # the producer lost: no terminal from it, the relay would write stream_interrupted
    assert "done" not in names(items)
    assert "error" not in names(items)
    assert await env.count("modkit_outbox_body") == 2
    assert (await _turn(env, rid))["error_code"] == "orphan_timeout"
    assert await _reserved(env) == 0


async def test_delete_chat_cancels_running_turn(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.gate = asyncio.Event()
    rid = uuid4()
    await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="hi", request_id=rid))
    await env.provider.started.wait()
    await env.engine.delete_chat(env.ctx(), chat.id)
    await env.engine.runner.wait_idle(5)
    assert (await _turn(env, rid))["state"] == "cancelled"
    assert await _reserved(env) == 0
