"""Provider cleanup of deleted attachments and chats (CI-12.4, CI-12.5) and the reconciler's pass (CI-14.3).

Handlers run from the outbox in every process; a provider answer of 404 counts as done (the adapter says so). A
file that keeps failing is marked ``failed`` after ``cleanup.max_attempts`` and left for an operator.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from uuid import uuid4

from ..config import MiniChatConfig
from .ports import (
    AttachmentCleanupPayload,
    AttachmentRecord,
    ChatCleanupPayload,
    Clock,
    OutboxPort,
    ProviderCallError,
    ProviderFiles,
    Store,
)
from .telemetry import NO_TELEMETRY, Telemetry

_log = logging.getLogger("fabrikit.mini_chat.cleanup")


class CleanupOutcome(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    REJECT = "reject"


class Cleanup:
    def __init__(
        self,
        *,
        store: Store,
        files: ProviderFiles,
        outbox: OutboxPort,
        config: MiniChatConfig,
        clock: Clock,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._store, self._files, self._outbox = store, files, outbox
        self._config, self._clock = config, clock
        self.telemetry = telemetry

    async def attachment(self, p: AttachmentCleanupPayload) -> CleanupOutcome:
        """CI-12.4: the file leaves the chat's vector store, then the provider."""
        store = self._store
        if not await store.chats.is_live(p.tenant_id, p.chat_id):
            return CleanupOutcome.DONE  # the chat's cleanup owns its files now
        record = await store.attachments.record(p.tenant_id, p.chat_id, p.attachment_id)
        if record is None or record.cleanup_status != "pending":
            return CleanupOutcome.DONE
        return CleanupOutcome.DONE if await self._remove(record, with_store=True) else CleanupOutcome.RETRY

    async def chat(self, p: ChatCleanupPayload) -> CleanupOutcome:
        """CI-12.5: every pending file of the deleted chat, then its vector store once none is pending."""
        store, tenant = self._store, p.tenant_id
        if await store.chats.is_live(tenant, p.chat_id):
            return CleanupOutcome.REJECT  # only a deleted chat is cleaned up
        pending = False
        for record in await store.attachments.pending_cleanup_of_chat(tenant, p.chat_id):
            pending |= not await self._remove(record, with_store=False)
        if pending:
            return CleanupOutcome.RETRY
        vector_store = await store.attachments.vector_store_of(tenant, p.chat_id)
        if vector_store is not None:
            store_id, provider = vector_store
            if store_id is not None:
                try:
                    await self._files.delete_vector_store(tenant, provider, store_id)
                except ProviderCallError as exc:
                    _log.warning("vector store of deleted chat %s not deleted: %s", p.chat_id, exc.code)
                    self.telemetry.count("cleanup_retry", resource_type="vector_store")
                    return CleanupOutcome.RETRY
            if await store.attachments.any_cleanup_failed(tenant, p.chat_id):
                self.telemetry.count("cleanup_vs_with_failed_attachments")
            await store.attachments.forget_vector_store(tenant, p.chat_id)
            self.telemetry.count("cleanup_completed", resource_type="vector_store")
        return CleanupOutcome.DONE

    async def _remove(self, record: AttachmentRecord, *, with_store: bool) -> bool:
        """The provider side of one attachment; True when it reached a final state (``done`` or ``failed``)."""
        attachments, files, provider = self._store.attachments, self._files, record.storage_backend
        now = self._clock.now()
        try:
            if record.provider_file_id is not None:
                if with_store and record.for_file_search:
                    vector_store = await attachments.vector_store_of(record.tenant_id, record.chat_id)
                    if vector_store is not None and vector_store[0] is not None:
                        await files.remove_vector_store_file(
                            record.tenant_id, provider, vector_store[0], record.provider_file_id
                        )
                await files.delete_file(record.tenant_id, provider, record.provider_file_id)
        except ProviderCallError as exc:
            status = await attachments.cleanup_failed(
                record.tenant_id, record.id, exc.code, self._config.cleanup.max_attempts, now
            )
            if status == "failed":
                _log.error(
                    "provider file of attachment %s left behind after retries: %s", record.id, exc.code
                )
                self.telemetry.count("cleanup_failed", resource_type="file")
                return True
            self.telemetry.count("cleanup_retry", resource_type="file")
            return False
        await attachments.cleanup_done(record.tenant_id, record.id, now)
        self.telemetry.count("cleanup_completed", resource_type="file")
        return True

    async def reconcile(self) -> int:
        """CI-14.3: pending cleanups nobody touched for ``stale_after_seconds`` are queued again; returns how many."""
        cfg, store = self._config.cleanup, self._store
        now = self._clock.now()
        stale = await store.attachments.stale_cleanups(
            now - timedelta(seconds=cfg.stale_after_seconds), cfg.batch_size
        )
        for record, chat_deleted in stale:
            async with store.tx.write() as txn:
                await store.attachments.touch_cleanup(record.tenant_id, record.id, now)
                if chat_deleted:
                    await self._outbox.enqueue_chat_cleanup(
                        txn,
                        ChatCleanupPayload(
                            reason="chat_soft_delete",
                            tenant_id=record.tenant_id,
                            chat_id=record.chat_id,
                            system_request_id=uuid4(),
                            chat_deleted_at=record.deleted_at or now,
                        ),
                    )
                else:
                    await self._outbox.enqueue_attachment_cleanup(
                        txn,
                        AttachmentCleanupPayload(
                            event_type="attachment_deleted",
                            tenant_id=record.tenant_id,
                            chat_id=record.chat_id,
                            attachment_id=record.id,
                            attachment_kind=record.attachment_kind,
                            storage_backend=record.storage_backend,
                            deleted_at=record.deleted_at or now,
                        ),
                    )
        if stale:
            self._outbox.flush()
        return len(stale)


__all__ = ["Cleanup", "CleanupOutcome"]
