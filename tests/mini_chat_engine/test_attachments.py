"""Attachment uploads and cleanup on a real database with the provider Files port faked: the per-process upload
limit, each provider failure's ``error_code`` and clean-up, the vector-store claim between processes (CI-12.2),
cleanup retries up to ``failed``, and the reconciler (CI-14.3). The HTTP path through mock-llm is in
``tests/mini_chat_checklist/test_attachments.py``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import msgspec
import pytest

from fabrikit.modules.mini_chat.config import MiniChatConfig
from fabrikit.modules.mini_chat.domain import uploads
from fabrikit.modules.mini_chat.domain.cleanup import CleanupOutcome
from fabrikit.modules.mini_chat.domain.errors import InvalidModel, UploadConcurrencyLimit
from fabrikit.modules.mini_chat.domain.ports import (
    AttachmentCleanupPayload,
    ChatCleanupPayload,
    ProviderCallError,
)
from fabrikit.modules.mini_chat.domain.service_api import CreateChatBody
from fabrikit.modules.mini_chat.infra.outbox import PAYLOAD_ATTACHMENT_CLEANUP

from .conftest import Env
from .fakes import BytesUpload


@pytest.fixture
def config() -> MiniChatConfig:
    return msgspec.convert(
        {"rag": {"max_concurrent_uploads": 1}, "cleanup": {"max_attempts": 2, "stale_after_seconds": 60}},
        MiniChatConfig,
    )


async def _chat(env: Env) -> UUID:
    return (await env.engine.create_chat(env.ctx(), CreateChatBody(title="files"))).id


async def _upload(
    env: Env, chat: UUID, name: str = "a.txt", content_type: str = "text/plain"
) -> dict[str, object]:
    detail = await env.engine.upload_attachment(env.ctx(), chat, BytesUpload(name, content_type, b"data"))
    return msgspec.to_builtins(detail)  # type: ignore[no-any-return]


async def test_one_upload_at_a_time_per_process_then_the_next_one_runs(env: Env) -> None:
    chat = await _chat(env)
    env.files.gate = asyncio.Event()
    first = asyncio.create_task(_upload(env, chat))
    await env.files.uploading.wait()
    with pytest.raises(UploadConcurrencyLimit) as refused:
        await _upload(env, chat, "b.txt")
    assert refused.value.response_headers() == {"Retry-After": "5"}
    env.files.gate.set()
    assert (await first)["status"] == "ready"
    assert (await _upload(env, chat, "c.txt"))["status"] == "ready"  # the slot came back


async def test_a_chat_whose_model_left_the_catalog_cannot_take_uploads(env: Env) -> None:
    chat = await _chat(env)
    env.policy.catalog = tuple(m for m in env.policy.catalog if m.id != "prem")
    env.refresh_policy()
    with pytest.raises(InvalidModel):
        await _upload(env, chat)
    assert env.files.calls == []


@pytest.mark.parametrize(
    ("failing", "code", "file_deleted"),
    [
        ("upload_file", "upload_failed", False),
        ("create_vector_store", "vector_store_failed", True),
        ("add_vector_store_file", "indexing_failed", True),
    ],
)
async def test_a_provider_failure_marks_the_attachment_and_removes_its_file(
    env: Env, failing: str, code: str, file_deleted: bool
) -> None:
    chat = await _chat(env)
    env.files.fail[failing] = [ProviderCallError("provider_error", "nope")]
    detail = await _upload(env, chat)
    assert (detail["status"], detail["error_code"]) == ("failed", code)
    assert ("delete_file" in env.files.names()) is file_deleted
    if failing == "create_vector_store":  # the claim is dropped: the next upload creates the store
        assert await env.engine.store.attachments.vector_store_state(env.tenant, chat) == (False, None)
        assert (await _upload(env, chat, "b.txt"))["status"] == "ready"


async def test_a_second_process_waits_for_the_store_another_one_is_creating(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await _chat(env)
    attachments = env.engine.store.attachments
    assert await attachments.claim_vector_store(
        env.tenant, chat, "mock", env.engine.clock.now()
    )  # the other one

    async def finish_creation() -> None:
        await asyncio.sleep(0.1)
        assert await attachments.set_vector_store(env.tenant, chat, "vs-theirs")

    creator = asyncio.create_task(finish_creation())
    detail = await _upload(env, chat)
    await creator
    assert detail["status"] == "ready"
    assert "create_vector_store" not in env.files.names()
    assert [args[0] for name, args in env.files.calls if name == "add_vector_store_file"] == ["vs-theirs"]

    # A creator that never finishes: the waiter gives up with vector_store_failed, and creates nothing.
    other = await _chat(env)
    assert await attachments.claim_vector_store(env.tenant, other, "mock", env.engine.clock.now())
    monkeypatch.setattr(uploads, "VECTOR_STORE_WAIT_SECONDS", 0.2)
    failed = await _upload(env, other)
    assert (failed["status"], failed["error_code"]) == ("failed", "vector_store_failed")
    assert "create_vector_store" not in env.files.names()


async def _deleted_document(env: Env) -> tuple[UUID, UUID, AttachmentCleanupPayload]:
    chat = await _chat(env)
    detail = await _upload(env, chat)
    attachment = UUID(str(detail["id"]))
    await env.engine.delete_attachment(env.ctx(), chat, attachment)
    record = await env.engine.store.attachments.record(env.tenant, chat, attachment)
    assert record is not None
    assert record.cleanup_status == "pending"
    payload = AttachmentCleanupPayload(
        event_type="attachment_deleted",
        tenant_id=env.tenant,
        chat_id=chat,
        attachment_id=attachment,
        attachment_kind="document",
        storage_backend="mock",
        deleted_at=env.engine.clock.now(),
    )
    return chat, attachment, payload


async def test_cleanup_retries_then_leaves_the_file_for_an_operator(env: Env) -> None:
    chat, attachment, payload = await _deleted_document(env)
    env.files.fail["delete_file"] = [ProviderCallError("provider_error", "down")] * 2
    cleanup = env.engine.cleanup
    assert await cleanup.attachment(payload) is CleanupOutcome.RETRY
    assert await cleanup.attachment(payload) is CleanupOutcome.DONE  # max_attempts = 2: failed, not retried
    record = await env.engine.store.attachments.record(env.tenant, chat, attachment)
    assert record is not None
    assert (record.cleanup_status, record.cleanup_attempts) == ("failed", 2)
    assert env.files.names().count("remove_vector_store_file") == 2  # left the store each time first


async def test_cleanup_succeeds_once_and_then_has_nothing_to_do(env: Env) -> None:
    chat, attachment, payload = await _deleted_document(env)
    cleanup = env.engine.cleanup
    assert await cleanup.attachment(payload) is CleanupOutcome.DONE
    calls = list(env.files.calls)
    assert await cleanup.attachment(payload) is CleanupOutcome.DONE  # redelivered: no second provider call
    assert env.files.calls == calls
    chat_payload = ChatCleanupPayload(
        reason="chat_soft_delete",
        tenant_id=env.tenant,
        chat_id=chat,
        system_request_id=attachment,
        chat_deleted_at=env.engine.clock.now(),
    )
    assert await cleanup.chat(chat_payload) is CleanupOutcome.REJECT  # the chat is not deleted


async def test_the_reconciler_queues_stale_cleanups_again(env: Env) -> None:
    _, attachment, _ = await _deleted_document(env)
    cleanup = env.engine.cleanup

    async def queued() -> int:
        return await env.count("modkit_outbox_body", "payload_type = {}", PAYLOAD_ATTACHMENT_CLEANUP)

    before = await queued()
    assert await cleanup.reconcile() == 0  # not stale yet
    stale = env.engine.clock.now() - timedelta(seconds=120)
    await env.engine.store.attachments.touch_cleanup(env.tenant, attachment, stale)
    assert await cleanup.reconcile() == 1
    assert await queued() == before + 1
    assert await cleanup.reconcile() == 0  # touched: not stale any more
