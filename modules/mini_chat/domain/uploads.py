"""Attachment upload, read and delete (C-13, CI-12.1–12.3), in the specification's check order.

The REST layer hands over an ``UploadSource`` that parses the multipart request as it is read, so a wrong type
or a declared oversize body is refused before the file is read. The upload is synchronous: the answer follows the
provider upload and, for documents, the indexing in the chat's vector store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol
from uuid import UUID

from fabrikit.kernel.security import SecurityContext

from ..config import MiniChatConfig
from ..sdk import ModelCatalogEntry
from .attachments import (
    MIB,
    AttachmentDetail,
    attachment_detail,
    check_purpose,
    clean_filename,
    declared_too_large,
    file_type,
    provider_filename,
    size_cap,
)
from .errors import (
    AttachmentLocked,
    AttachmentNotFound,
    ChatNotFound,
    DocumentLimitExceeded,
    FileTooLarge,
    Forbidden,
    InvalidModel,
    StorageLimitExceeded,
    UploadConcurrencyLimit,
)
from .ids import new_uuid7
from .policy import PolicyGateway
from .ports import (
    AttachmentCleanupPayload,
    ChatRow,
    Clock,
    NewAttachment,
    OutboxPort,
    ProviderCallError,
    ProviderFiles,
    Store,
)

_log = logging.getLogger("fabrikit.mini_chat.attachments")
# CI-12.2: a process that did not create the chat's vector store waits for its creator this long.
VECTOR_STORE_WAIT_SECONDS = 10.0


# C-13.9: (WebP bytes, width, height) of an image, or None.
Thumbnailer = Callable[[bytes], Awaitable[tuple[bytes, int, int] | None]]


class UploadSource(Protocol):
    """A multipart request parsed as it is read (CI-12.1)."""

    content_length: int | None

    async def file_part(self) -> tuple[str | None, str | None]:
        """(file name, Content-Type) of the ``file`` part; ``ValidationFailed`` when the body is not such a form."""
        ...

    async def read_file(self, limit: int) -> bytes:
        """The part's bytes; ``FileTooLarge`` as soon as there are more than ``limit``."""
        ...


class _Slots:
    """C-13.4: at most ``limit`` uploads per process; no queue."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise UploadConcurrencyLimit("Too many uploads are in progress; retry shortly.")
        self.used += 1

    def give(self) -> None:
        self.used -= 1


class Attachments:
    def __init__(
        self,
        *,
        store: Store,
        files: ProviderFiles,
        policy: PolicyGateway,
        outbox: OutboxPort,
        config: MiniChatConfig,
        clock: Clock,
        thumbnail: Thumbnailer | None = None,
    ) -> None:
        self._store, self._files, self._policy = store, files, policy
        self._outbox, self._config, self._clock = outbox, config, clock
        self._thumbnail = thumbnail
        self._slots = _Slots(config.rag.max_concurrent_uploads)

    # -- upload ----------------------------------------------------------------------------------------------

    async def upload(self, ctx: SecurityContext, chat: ChatRow, source: UploadSource) -> AttachmentDetail:
        tenant, rag = ctx.subject_tenant_id, self._config.rag
        policy = await self._policy.current(tenant, ctx.subject_id)
        model = _chat_model(policy.catalog.entries, chat.model)
        name, declared = await source.file_part()
        filename = clean_filename(name)
        ftype = file_type(filename, declared, allow_csv=rag.allow_csv_upload)
        cap = size_cap(ftype.kind, rag, model)
        if declared_too_large(source.content_length, cap):
            raise FileTooLarge(f"The file exceeds {cap} bytes.")
        self._slots.take()
        try:
            check_purpose(ftype, model, policy.snapshot.kill_switches)
            data = await source.read_file(cap)
            attachment = NewAttachment(
                id=new_uuid7(),
                tenant_id=tenant,
                chat_id=chat.id,
                uploaded_by_user_id=ctx.subject_id,
                filename=filename,
                content_type=ftype.content_type,
                size_bytes=len(data),
                attachment_kind=ftype.kind,
                for_file_search=ftype.purpose == "file_search",
                for_code_interpreter=ftype.purpose == "code_interpreter",
                storage_backend=model.provider_id,
                created_at=self._clock.now(),
            )
            await self._insert(attachment)
            await self._deliver(attachment, data)
        finally:
            self._slots.give()
        record = await self._store.attachments.record(tenant, chat.id, attachment.id)
        assert record is not None
        return attachment_detail(record)

    async def _insert(self, a: NewAttachment) -> None:
        """C-13.6 under the chat's lock: the document count and the chat's total size, then the ``pending`` row."""
        rag, store = self._config.rag, self._store
        async with store.tx.write():
            if not await store.chats.lock(a.tenant_id, a.chat_id):
                raise ChatNotFound("Chat not found.")
            documents, total = await store.attachments.usage(a.tenant_id, a.chat_id)
            if a.attachment_kind == "document" and documents >= rag.max_documents_per_chat:
                raise DocumentLimitExceeded(f"A chat holds at most {rag.max_documents_per_chat} documents.")
            if total + a.size_bytes > rag.max_total_upload_mb_per_chat * MIB:
                raise StorageLimitExceeded(
                    f"A chat holds at most {rag.max_total_upload_mb_per_chat} MiB of files."
                )
            await store.attachments.insert(a)

    async def _deliver(self, a: NewAttachment, data: bytes) -> None:
        """Provider upload, then (documents for file search) the vector store; a failure marks the row ``failed``
        and removes the provider file if there is one (CI-12.1)."""
        attachments, files, provider = self._store.attachments, self._files, a.storage_backend
        try:
            file_id = await files.upload_file(
                a.tenant_id,
                provider,
                filename=provider_filename(a.chat_id.hex, a.id.hex, a.filename),
                content_type=a.content_type,
                data=data,
            )
        except ProviderCallError as exc:
            await self._fail(a, "upload_failed", exc)
            return
        await attachments.set_uploaded(a.tenant_id, a.id, file_id, len(data), self._clock.now())
        if a.for_file_search:
            try:
                store_id = await self._vector_store(a.tenant_id, a.chat_id, provider)
            except ProviderCallError as exc:
                await self._fail(a, "vector_store_failed", exc, file_id)
                return
            try:
                await files.add_vector_store_file(
                    a.tenant_id, provider, store_id, file_id, {"attachment_id": str(a.id)}
                )
            except ProviderCallError as exc:
                await self._fail(a, "indexing_failed", exc, file_id)
                return
            await attachments.count_vector_store_file(a.tenant_id, a.chat_id)
        thumb = None
        if a.attachment_kind == "image" and self._thumbnail is not None:
            thumb = await self._thumbnail(data)
        await attachments.set_ready(a.tenant_id, a.id, thumb, self._clock.now())

    async def _fail(
        self, a: NewAttachment, code: str, exc: ProviderCallError, file_id: str | None = None
    ) -> None:
        _log.warning("attachment %s failed: %s (%s)", a.id, code, exc.code)
        await self._store.attachments.set_failed(a.tenant_id, a.id, code, self._clock.now())
        if file_id is not None:
            try:
                await self._files.delete_file(a.tenant_id, a.storage_backend, file_id)
            except ProviderCallError:
                _log.warning("provider file of failed attachment %s left behind", a.id)

    async def _vector_store(self, tenant_id: UUID, chat_id: UUID, provider: str) -> str:
        """CI-12.2: the claimant creates the provider store and records it if nobody did; others wait for it."""
        attachments = self._store.attachments
        exists, store_id = await attachments.vector_store_state(tenant_id, chat_id)
        if store_id is not None:
            return store_id
        if not exists and await attachments.claim_vector_store(
            tenant_id, chat_id, provider, self._clock.now()
        ):
            try:
                created = await self._files.create_vector_store(
                    tenant_id, provider, name=f"chat-{chat_id.hex}"
                )
            except ProviderCallError:
                await attachments.drop_vector_store_claim(tenant_id, chat_id)
                raise
            if await attachments.set_vector_store(tenant_id, chat_id, created):
                return created
            await self._files.delete_vector_store(tenant_id, provider, created)  # lost the race: use theirs
        return await self._wait_for_store(tenant_id, chat_id)

    async def _wait_for_store(self, tenant_id: UUID, chat_id: UUID) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + VECTOR_STORE_WAIT_SECONDS
        delay = 0.05
        while True:
            exists, store_id = await self._store.attachments.vector_store_state(tenant_id, chat_id)
            if store_id is not None:
                return store_id
            if not exists or loop.time() > deadline:
                raise ProviderCallError(
                    "vector_store_failed", "The chat's vector store could not be created."
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    # -- read and delete -----------------------------------------------------------------------------------

    async def get(self, ctx: SecurityContext, chat: ChatRow, attachment_id: UUID) -> AttachmentDetail:
        record = await self._store.attachments.record(ctx.subject_tenant_id, chat.id, attachment_id)
        if record is None or record.deleted_at is not None:
            raise AttachmentNotFound("Attachment not found.")
        return attachment_detail(record)

    async def delete(self, ctx: SecurityContext, chat: ChatRow, attachment_id: UUID) -> None:
        """CI-12.3: soft delete and queue the provider cleanup, in one transaction; locked while a live message
        links it; deleting twice is fine."""
        store, tenant = self._store, ctx.subject_tenant_id
        record = await store.attachments.record(tenant, chat.id, attachment_id)
        if record is None:
            raise AttachmentNotFound("Attachment not found.")
        if record.uploaded_by_user_id != ctx.subject_id:
            raise Forbidden("Only the uploader can delete an attachment.")
        if record.deleted_at is not None:
            return
        now = self._clock.now()
        async with store.tx.write() as txn:
            if not await store.attachments.soft_delete(tenant, chat.id, attachment_id, now):
                again = await store.attachments.record(tenant, chat.id, attachment_id)
                if again is not None and again.deleted_at is not None:
                    return  # deleted meanwhile
                raise AttachmentLocked("The attachment is used by a message; delete that turn first.")
            await self._outbox.enqueue_attachment_cleanup(
                txn,
                AttachmentCleanupPayload(
                    event_type="attachment_deleted",
                    tenant_id=tenant,
                    chat_id=chat.id,
                    attachment_id=attachment_id,
                    attachment_kind=record.attachment_kind,
                    storage_backend=record.storage_backend,
                    deleted_at=now,
                ),
            )
        self._outbox.flush()


def _chat_model(catalog: tuple[ModelCatalogEntry, ...], model_id: str) -> ModelCatalogEntry:
    """The chat's model as the caller's catalog knows it (its caps and tools apply, C-13.3, C-13.5)."""
    found = next((m for m in catalog if m.id == model_id), None)
    if found is None:  # the catalog dropped it since the chat was created
        raise InvalidModel("The chat's model is no longer available.")
    return found


__all__ = ["VECTOR_STORE_WAIT_SECONDS", "Attachments", "Thumbnailer", "UploadSource"]
