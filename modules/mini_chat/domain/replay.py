"""Replay (C-10.2, CI-5.6): a read-only path that pre-fills a handle from stored data; writes nothing."""

from __future__ import annotations

from uuid import UUID

from .errors import RequestIdConflict
from .ports import ChatRow, Store, TurnRow
from .service_api import END_OF_STREAM, StreamItem, TurnHandle
from .sse import CompletionSignal, Delta, Done, DoneUsage, StreamStarted
from .turn_runner import TurnRunner


async def replay_handle(
    store: Store, runner: TurnRunner, tenant_id: UUID, chat: ChatRow, turn: TurnRow
) -> TurnHandle:
    messages = await store.messages.by_request(tenant_id, chat.id, turn.request_id)
    answer = next((m for m in messages if m.role == "assistant" and m.id == turn.assistant_message_id), None)
    if answer is None or turn.assistant_message_id is None:
        raise RequestIdConflict("This request id cannot be replayed.")
    downgraded = turn.quota_decision == "downgrade"
    reason = turn.completion_reason
    items: list[StreamItem] = [
        StreamStarted(request_id=turn.request_id, message_id=answer.id, is_new_turn=False),
        Delta("text", answer.content),
        Done(
            usage=DoneUsage(
                input_tokens=answer.input_tokens,
                output_tokens=answer.output_tokens,
                cache_read_input_tokens=0,
                cache_write_input_tokens=0,
                reasoning_tokens=0,
                model=turn.effective_model,
            ),
            effective_model=turn.effective_model,
            selected_model=chat.model,
            quota_decision="downgrade" if downgraded else "allow",
            downgrade_from=chat.model if downgraded else None,
            downgrade_reason=turn.downgrade_reason if downgraded else None,
            completion_signal=CompletionSignal("incomplete", reason) if reason else None,  # type: ignore[arg-type]
        ),
        END_OF_STREAM,
    ]
    handle = runner.new_handle(chat.id, turn.request_id, None)
    for item in items:
        handle.queue.put_nowait(item)
    return handle
