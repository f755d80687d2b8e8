"""The thread-summary task's decisions (CI-9.3) on a real database: invalid payloads, a moved frontier, a
context-length error moving the target back (with its follow-up task), exhausted attempts, and a summarized
message deleted while the provider was answering. The provider is the port fake; the happy path through mock-llm
is in ``tests/mini_chat_checklist/test_thread_summary.py``."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec

from fabrikit.modules.mini_chat.domain.ports import (
    CompletionResult,
    MessageRow,
    ProviderCallError,
    ThreadSummaryPayload,
)
from fabrikit.modules.mini_chat.domain.service_api import CreateChatBody, SendMessageBody
from fabrikit.modules.mini_chat.domain.summary_task import Outcome
from fabrikit.modules.mini_chat.infra.outbox import PAYLOAD_THREAD_SUMMARY

from .conftest import Env
from .helpers import drain


async def _chat_with_turns(env: Env, turns: int) -> tuple[UUID, list[MessageRow]]:
    """A chat with ``turns`` completed turns; its live messages, oldest first."""
    chat = await env.engine.create_chat(env.ctx(), CreateChatBody(title="t"))
    for i in range(turns):
        start = await env.engine.send_message(env.ctx(), chat.id, SendMessageBody(content=f"message {i}"))
        await drain(start.handle)
    store = env.engine.store
    newest = await store.messages.boundary(env.tenant, chat.id)
    assert newest is not None
    messages = await store.messages.between(
        env.tenant, chat.id, after=None, upto=(newest.created_at, newest.id)
    )
    assert len(messages) == 2 * turns
    return chat.id, messages


def _payload(
    env: Env, chat_id: UUID, target: MessageRow, base: MessageRow | None = None
) -> ThreadSummaryPayload:
    return ThreadSummaryPayload(
        tenant_id=env.tenant,
        chat_id=chat_id,
        system_request_id=uuid4(),
        system_task_type="thread_summary_update",
        target_created_at=target.created_at,
        target_message_id=target.id,
        base_created_at=base.created_at if base else None,
        base_message_id=base.id if base else None,
    )


async def _follow_ups(env: Env) -> list[ThreadSummaryPayload]:
    rows = await env.db.fetch(
        "SELECT payload FROM modkit_outbox_body WHERE payload_type = {} ORDER BY id", PAYLOAD_THREAD_SUMMARY
    )
    return [msgspec.json.decode(bytes(r["payload"]), type=ThreadSummaryPayload) for r in rows]


async def test_a_summary_advances_the_frontier_from_its_base(env: Env) -> None:
    chat_id, messages = await _chat_with_turns(env, 3)
    summaries = env.engine.summaries
    assert await summaries.run(_payload(env, chat_id, messages[1]), attempts=0) is Outcome.SUMMARIZED
    env.provider.completions.append(CompletionResult(text="<summary>second</summary>", usage=None))
    assert await summaries.run(_payload(env, chat_id, messages[3], base=messages[1]), 0) is Outcome.SUMMARIZED
    row = await env.engine.store.summaries.get(env.tenant, chat_id)
    assert row is not None
    assert (row.summary_text, row.frontier_message_id) == ("second", messages[3].id)
    # The second call extends the first summary with the messages after its frontier only.
    text = env.provider.completion_requests[-1].body["input"][0]["content"]
    assert text.startswith("Previous summary (extend it; stay concise):\ns\n\n")
    assert "user: message 1" in text
    assert "message 0" not in text


async def test_a_half_frontier_is_rejected_and_a_moved_one_is_a_conflict(env: Env) -> None:
    chat_id, messages = await _chat_with_turns(env, 2)
    summaries = env.engine.summaries
    half = msgspec.structs.replace(_payload(env, chat_id, messages[1]), base_message_id=messages[0].id)
    assert await summaries.run(half, 0) is Outcome.REJECT
    # A base although no summary exists: another worker's view of the frontier, not ours.
    assert await summaries.run(_payload(env, chat_id, messages[1], base=messages[0]), 0) is Outcome.CONFLICT
    assert await env.engine.store.summaries.get(env.tenant, chat_id) is None
    assert env.provider.completion_requests == []  # decided before any provider call


async def test_a_context_length_error_moves_the_target_back_and_queues_the_rest(env: Env) -> None:
    chat_id, messages = await _chat_with_turns(env, 2)
    env.provider.completions.append(ProviderCallError("context_length_exceeded", "too long"))
    before = len(await _follow_ups(env))
    assert await env.engine.summaries.run(_payload(env, chat_id, messages[3]), 0) is Outcome.SUMMARIZED
    row = await env.engine.store.summaries.get(env.tenant, chat_id)
    assert row is not None
    assert row.frontier_message_id == messages[1].id  # the oldest half of four messages
    second_call = env.provider.completion_requests[1].body["input"][0]["content"]
    assert "message 0" in second_call
    assert "message 1" not in second_call
    (follow_up,) = (await _follow_ups(env))[before:]
    assert (follow_up.base_message_id, follow_up.target_message_id) == (messages[1].id, messages[3].id)


async def test_failures_retry_until_the_last_attempt(env: Env) -> None:
    chat_id, messages = await _chat_with_turns(env, 2)
    summaries = env.engine.summaries
    payload = _payload(env, chat_id, messages[3])
    # Context length on every try: two shrinks, then the task gives up for this attempt.
    env.provider.completions[:] = [ProviderCallError("context_length_exceeded", "too long")] * 3
    assert await summaries.run(payload, 0) is Outcome.RETRY
    env.provider.completions[:] = [ProviderCallError("provider_timeout", "slow")]
    assert await summaries.run(payload, 1) is Outcome.RETRY
    env.provider.completions[:] = [CompletionResult(text="no summary block here", usage=None)]
    max_attempts = env.engine.config.thread_summary.max_attempts
    assert await summaries.run(payload, max_attempts - 1) is Outcome.REJECT
    assert await env.engine.store.summaries.get(env.tenant, chat_id) is None


async def test_a_message_deleted_during_the_call_makes_the_summary_lose(env: Env) -> None:
    chat_id, messages = await _chat_with_turns(env, 2)

    async def delete_one() -> None:
        await env.engine.store.messages.soft_delete_turn(
            env.tenant, chat_id, messages[0].request_id or uuid4(), messages[3].created_at
        )

    env.provider.on_complete = delete_one
    assert await env.engine.summaries.run(_payload(env, chat_id, messages[1]), 0) is Outcome.CONFLICT
    assert await env.engine.store.summaries.get(env.tenant, chat_id) is None
    compressed = await env.db.fetch("SELECT id FROM messages WHERE is_compressed = {}", True)
    assert compressed == []
