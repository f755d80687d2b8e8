"""Chats CRUD and paging (C-6, C-4), reactions (C-14), retry/edit/delete (C-12, CI-11)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from fabrikit.kernel.odata import InvalidCursor
from fabrikit.modules.mini_chat.domain.errors import (
    ChatNotFound,
    InvalidModel,
    InvalidReactionTarget,
    InvalidTurnState,
    NotLatestTurn,
    QuotaExceeded,
    RequestIdConflict,
    TurnNotFound,
    ValidationFailed,
)
from fabrikit.modules.mini_chat.domain.service_api import (
    CreateChatBody,
    EditTurnBody,
    ListParams,
    ReactionBody,
    SendMessageBody,
    UpdateChatBody,
)
from fabrikit.modules.mini_chat.sdk import TierLimits

from .conftest import Env
from .helpers import drain


async def test_chat_crud(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody(title="  t  "))
    assert chat.title == "t"
    assert chat.model == "prem"
    assert chat.message_count == 0
    assert (await env.engine.create_chat(env.ctx(), CreateChatBody(model="std"))).model == "std"
    with pytest.raises(InvalidModel):
        await env.engine.create_chat(env.ctx(), CreateChatBody(model="nope"))
    with pytest.raises(ValidationFailed):
        await env.engine.create_chat(env.ctx(), CreateChatBody(title="x" * 256))
    assert (await env.engine.create_chat(env.ctx(), CreateChatBody(title="é" * 255))).title == "é" * 255
    updated = await env.engine.update_chat(env.ctx(), chat.id, UpdateChatBody(title="new"))
    assert updated.title == "new"
    assert updated.updated_at > chat.updated_at
    assert updated.created_at == chat.created_at
    with pytest.raises(ChatNotFound):
        await env.engine.update_chat(env.ctx(user=uuid4()), chat.id, UpdateChatBody(title="x"))
    await env.engine.delete_chat(env.ctx(), chat.id)
    with pytest.raises(ChatNotFound):
        await env.engine.get_chat(env.ctx(), chat.id)
    with pytest.raises(ChatNotFound):
        await env.engine.delete_chat(env.ctx(), chat.id)
    assert await env.count("modkit_outbox_body") == 1  # the chat-cleanup job


async def test_chat_pages_walk_without_gaps(env: Env) -> None:
    created = [await env.engine.create_chat(env.ctx(), CreateChatBody(title=f"c{i}")) for i in range(7)]
    await env.engine.create_chat(env.ctx(user=uuid4()), CreateChatBody(title="other user"))
    seen, cursor = [], None
    while True:
        page = await env.engine.list_chats(env.ctx(), ListParams(limit=3, cursor=cursor))
        seen += [c.id for c in page.items]
        cursor = page.page_info.next_cursor
        if cursor is None:
            break
    assert seen == [c.id for c in reversed(created)]
    with pytest.raises(InvalidCursor):
        await env.engine.list_chats(env.ctx(), ListParams(cursor=cursor or "x", orderby="created_at"))
    filtered = await env.engine.list_chats(
        env.ctx(), ListParams(filter="startswith(title,'c1')", select="id,title")
    )
    assert [c.title for c in filtered.items] == ["c1"]
    assert filtered.body()["items"] == [{"id": str(created[1].id), "title": "c1"}]


async def test_reactions(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    await drain((await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="q"))).handle)
    user_msg, answer = (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items
    with pytest.raises(InvalidReactionTarget):
        await env.engine.put_reaction(env.ctx(), chat.id, user_msg.id, ReactionBody(reaction="like"))
    await env.engine.put_reaction(env.ctx(), chat.id, answer.id, ReactionBody(reaction="like"))
    await env.engine.put_reaction(env.ctx(), chat.id, answer.id, ReactionBody(reaction="dislike"))
    items = (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items
    assert items[1].my_reaction == "dislike"
    assert await env.count("message_reactions") == 1
    await env.engine.delete_reaction(env.ctx(), chat.id, answer.id)
    await env.engine.delete_reaction(env.ctx(), chat.id, answer.id)
    assert (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items[1].my_reaction is None


async def _send(env: Env, chat_id: object, content: str) -> object:
    rid = uuid4()
    await drain(
        (
            await env.engine.send_message(
                env.ctx(), chat_id, SendMessageBody(content=content, request_id=rid)
            )
        ).handle
    )
    return rid


async def test_retry_edit_delete(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    first = await _send(env, chat.id, "one")
    second = await _send(env, chat.id, "two")
    with pytest.raises(NotLatestTurn):
        await env.engine.retry_turn(env.ctx(), chat.id, first)
    with pytest.raises(ChatNotFound):  # owner-only: another user never sees the chat (C-2.4)
        await env.engine.delete_turn(env.ctx(user=uuid4()), chat.id, second)
    start = await env.engine.retry_turn(env.ctx(), chat.id, second)
    items = await drain(start.handle)
    assert items[0].is_new_turn
    assert items[0].request_id != second
    replaced = await env.db.fetch_one(
        "SELECT replaced_by_request_id FROM chat_turns WHERE request_id = {}", second
    )
    assert replaced is not None
    assert str(replaced["replaced_by_request_id"]) == str(items[0].request_id)
    with pytest.raises(TurnNotFound):
        await env.engine.turn_status(env.ctx(), chat.id, second)
    with pytest.raises(RequestIdConflict):
        await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="two", request_id=second))
    contents = [m.content for m in (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items]
    assert contents == ["one", "Hello world", "two", "Hello world"]
    edited = await drain(
        (
            await env.engine.edit_turn(env.ctx(), chat.id, items[0].request_id, EditTurnBody(content="2!"))
        ).handle
    )
    contents = [m.content for m in (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items]
    assert contents == ["one", "Hello world", "2!", "Hello world"]
    await env.engine.delete_turn(env.ctx(), chat.id, edited[0].request_id)
    contents = [m.content for m in (await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items]
    assert contents == ["one", "Hello world"]
    assert await env.count("modkit_outbox_body", "payload_type = 'mini-chat.audit.v1'") == 4 + 3


async def test_mutation_rejections_change_nothing(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    rid = await _send(env, chat.id, "one")
    env.policy.premium = TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1)
    env.policy.standard = TierLimits(limit_daily_credits_micro=1, limit_monthly_credits_micro=1)
    env.refresh_policy()
    before = await env.count("modkit_outbox_body")
    with pytest.raises(QuotaExceeded):
        await env.engine.retry_turn(env.ctx(), chat.id, rid)
    assert (await env.engine.turn_status(env.ctx(), chat.id, rid)).state == "done"
    assert await env.count("chat_turns") == 1
    assert await env.count("modkit_outbox_body") == before
    assert len((await env.engine.list_messages(env.ctx(), chat.id, ListParams())).items) == 2


async def test_running_turn_cannot_be_mutated_and_concurrent_retries(env: Env) -> None:
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody())
    env.provider.gate = asyncio.Event()
    rid = uuid4()
    start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content="x", request_id=rid))
    await env.provider.started.wait()
    with pytest.raises(InvalidTurnState):
        await env.engine.retry_turn(env.ctx(), chat.id, rid)
    with pytest.raises(InvalidTurnState):
        await env.engine.delete_turn(env.ctx(), chat.id, rid)
    env.provider.gate.set()
    await drain(start.handle)
    env.provider.gate = None
    results = await asyncio.gather(
        *(env.engine.retry_turn(env.ctx(), chat.id, rid) for _ in range(2)), return_exceptions=True
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1, results
    assert isinstance(next(r for r in results if isinstance(r, BaseException)), (NotLatestTurn, TurnNotFound))
    await drain(wins[0].handle)
    assert await env.count("chat_turns", "deleted_at IS NULL") == 1
