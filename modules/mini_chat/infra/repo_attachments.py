"""``attachments``, ``message_attachments`` and ``chat_vector_stores``: what sends need (CI-3 P6–P8, C-5), uploads,
deletes and cleanup (C-13, CI-12)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from ..domain.ports import AttachmentRecord, AttachmentRow, LinkedAttachment, NewAttachment, UniqueViolation
from .sql import Sql, bool_of, opt_ts, ts_of, uuid_of

_COLS = (
    "a.id, a.chat_id, a.uploaded_by_user_id, a.filename, a.content_type, a.size_bytes, a.status, "
    "a.attachment_kind, a.for_file_search, a.for_code_interpreter, a.provider_file_id, a.img_thumbnail, "
    "a.img_thumbnail_width, a.img_thumbnail_height, a.deleted_at"
)


def _columns(r: dict[str, Any]) -> dict[str, Any]:
    """The columns ``AttachmentRow`` and ``AttachmentRecord`` share, converted."""
    thumb = r["img_thumbnail"]
    return {
        "id": uuid_of(r["id"]),
        "chat_id": uuid_of(r["chat_id"]),
        "uploaded_by_user_id": uuid_of(r["uploaded_by_user_id"]),
        "filename": r["filename"],
        "content_type": r["content_type"],
        "size_bytes": int(r["size_bytes"]),
        "status": r["status"],
        "attachment_kind": r["attachment_kind"],
        "for_file_search": bool_of(r["for_file_search"]),
        "for_code_interpreter": bool_of(r["for_code_interpreter"]),
        "provider_file_id": r["provider_file_id"],
        "img_thumbnail": bytes(thumb) if thumb is not None else None,
        "img_thumbnail_width": r["img_thumbnail_width"],
        "img_thumbnail_height": r["img_thumbnail_height"],
    }


def attachment_of(r: dict[str, Any]) -> AttachmentRow:
    return AttachmentRow(**_columns(r), deleted=r["deleted_at"] is not None)


def record_of(r: dict[str, Any]) -> AttachmentRecord:
    return AttachmentRecord(
        **_columns(r),
        tenant_id=uuid_of(r["tenant_id"]),
        error_code=r["error_code"],
        storage_backend=r["storage_backend"],
        cleanup_status=r["cleanup_status"],
        cleanup_attempts=int(r["cleanup_attempts"]),
        created_at=ts_of(r["created_at"]),
        deleted_at=opt_ts(r["deleted_at"]),
    )


class AttachmentsRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def by_ids(self, tenant_id: UUID, chat_id: UUID, ids: Sequence[UUID]) -> list[AttachmentRow]:
        if not ids:
            return []
        marks = ", ".join("{}" for _ in ids)
        rows = await self._sql.fetch(
            f"SELECT {_COLS} FROM attachments a WHERE a.chat_id = {{}} AND a.tenant_id = {{}} "
            f"AND a.deleted_at IS NULL AND a.id IN ({marks})",
            chat_id,
            tenant_id,
            *ids,
        )
        return [attachment_of(r) for r in rows]

    async def ready_of_chat(self, tenant_id: UUID, chat_id: UUID) -> list[AttachmentRow]:
        rows = await self._sql.fetch(
            f"SELECT {_COLS} FROM attachments a WHERE a.chat_id = {{}} AND a.tenant_id = {{}} "
            "AND a.deleted_at IS NULL AND a.status = 'ready' ORDER BY a.created_at, a.id",
            chat_id,
            tenant_id,
        )
        return [attachment_of(r) for r in rows]

    async def vector_store_id(self, tenant_id: UUID, chat_id: UUID) -> str | None:
        row = await self._sql.fetch_one(
            "SELECT vector_store_id FROM chat_vector_stores WHERE chat_id = {} AND tenant_id = {}",
            chat_id,
            tenant_id,
        )
        return row["vector_store_id"] if row else None

    async def link(
        self, tenant_id: UUID, chat_id: UUID, message_id: UUID, attachment_ids: Sequence[UUID], now: datetime
    ) -> None:
        # created_at grows by 1 µs per link so "link order" survives a shared timestamp.
        from datetime import timedelta

        for i, attachment_id in enumerate(attachment_ids):
            await self._sql.execute(
                "INSERT INTO message_attachments (tenant_id, chat_id, message_id, attachment_id, created_at) "
                "VALUES ({}, {}, {}, {}, {})",
                tenant_id,
                chat_id,
                message_id,
                attachment_id,
                self._sql.ts(now + timedelta(microseconds=i)),
            )

    async def links_of(
        self, tenant_id: UUID, chat_id: UUID, message_ids: Sequence[UUID]
    ) -> list[LinkedAttachment]:
        if not message_ids:
            return []
        marks = ", ".join("{}" for _ in message_ids)
        rows = await self._sql.fetch(
            f"SELECT ma.message_id AS link_message_id, {_COLS} FROM message_attachments ma "
            "JOIN attachments a ON a.id = ma.attachment_id AND a.chat_id = ma.chat_id "
            f"WHERE ma.chat_id = {{}} AND ma.tenant_id = {{}} AND ma.message_id IN ({marks}) "
            "ORDER BY ma.created_at, ma.attachment_id",
            chat_id,
            tenant_id,
            *message_ids,
        )
        return [
            LinkedAttachment(message_id=uuid_of(r["link_message_id"]), attachment=attachment_of(r))
            for r in rows
        ]

    async def mark_chat_cleanup(self, tenant_id: UUID, chat_id: UUID, now: datetime) -> int:
        rows = await self._sql.fetch(
            "UPDATE attachments SET cleanup_status = 'pending', cleanup_updated_at = {}, updated_at = {} "
            "WHERE chat_id = {} AND tenant_id = {} AND cleanup_status IS NULL RETURNING id",
            self._sql.ts(now),
            self._sql.ts(now),
            chat_id,
            tenant_id,
        )
        return len(rows)

    # -- uploads and cleanup (C-13, CI-12) --

    async def insert(self, a: NewAttachment) -> None:
        s = self._sql
        await s.execute(
            "INSERT INTO attachments (id, tenant_id, chat_id, uploaded_by_user_id, filename, content_type, "
            "size_bytes, storage_backend, status, attachment_kind, for_file_search, for_code_interpreter, "
            "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 'pending', {}, {}, {}, {}, {})",
            a.id,
            a.tenant_id,
            a.chat_id,
            a.uploaded_by_user_id,
            a.filename,
            a.content_type,
            a.size_bytes,
            a.storage_backend,
            a.attachment_kind,
            a.for_file_search,
            a.for_code_interpreter,
            s.ts(a.created_at),
            s.ts(a.created_at),
        )

    async def record(self, tenant_id: UUID, chat_id: UUID, attachment_id: UUID) -> AttachmentRecord | None:
        row = await self._sql.fetch_one(
            "SELECT * FROM attachments WHERE id = {} AND chat_id = {} AND tenant_id = {}",
            attachment_id,
            chat_id,
            tenant_id,
        )
        return record_of(row) if row else None

    async def usage(self, tenant_id: UUID, chat_id: UUID) -> tuple[int, int]:
        row = await self._sql.fetch_one(
            "SELECT COUNT(CASE WHEN attachment_kind = 'document' THEN 1 END) AS documents, "
            "COALESCE(SUM(size_bytes), 0) AS total FROM attachments "
            "WHERE chat_id = {} AND tenant_id = {} AND deleted_at IS NULL AND status <> 'failed'",
            chat_id,
            tenant_id,
        )
        assert row is not None
        return int(row["documents"]), int(row["total"])

    async def set_uploaded(
        self, tenant_id: UUID, attachment_id: UUID, provider_file_id: str, size_bytes: int, now: datetime
    ) -> None:
        await self._sql.execute(
            "UPDATE attachments SET status = 'uploaded', provider_file_id = {}, size_bytes = {}, updated_at = {} "
            "WHERE id = {} AND tenant_id = {} AND status = 'pending'",
            provider_file_id,
            size_bytes,
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )

    async def set_ready(
        self, tenant_id: UUID, attachment_id: UUID, thumbnail: tuple[bytes, int, int] | None, now: datetime
    ) -> None:
        data, width, height = thumbnail if thumbnail is not None else (None, None, None)
        await self._sql.execute(
            "UPDATE attachments SET status = 'ready', img_thumbnail = {}, img_thumbnail_width = {}, "
            "img_thumbnail_height = {}, updated_at = {} WHERE id = {} AND tenant_id = {} AND status = 'uploaded'",
            data,
            width,
            height,
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )

    async def set_failed(self, tenant_id: UUID, attachment_id: UUID, error_code: str, now: datetime) -> None:
        await self._sql.execute(
            "UPDATE attachments SET status = 'failed', error_code = {}, updated_at = {} "
            "WHERE id = {} AND tenant_id = {} AND status IN ('pending', 'uploaded')",
            error_code,
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )

    async def soft_delete(self, tenant_id: UUID, chat_id: UUID, attachment_id: UUID, now: datetime) -> bool:
        s = self._sql
        rows = await s.fetch(
            "UPDATE attachments SET deleted_at = {}, cleanup_status = 'pending', cleanup_updated_at = {}, "
            "updated_at = {} WHERE id = {} AND chat_id = {} AND tenant_id = {} AND deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM message_attachments ma JOIN messages m "
            "ON m.id = ma.message_id AND m.chat_id = ma.chat_id "
            "WHERE ma.attachment_id = attachments.id AND ma.chat_id = attachments.chat_id "
            "AND m.deleted_at IS NULL) RETURNING id",
            s.ts(now),
            s.ts(now),
            s.ts(now),
            attachment_id,
            chat_id,
            tenant_id,
        )
        return bool(rows)

    async def cleanup_done(self, tenant_id: UUID, attachment_id: UUID, now: datetime) -> None:
        await self._sql.execute(
            "UPDATE attachments SET cleanup_status = 'done', cleanup_updated_at = {} WHERE id = {} AND tenant_id = {}",
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )

    async def cleanup_failed(
        self, tenant_id: UUID, attachment_id: UUID, error: str, max_attempts: int, now: datetime
    ) -> str:
        rows = await self._sql.fetch(
            "UPDATE attachments SET cleanup_attempts = cleanup_attempts + 1, last_cleanup_error = {}, "
            "cleanup_status = CASE WHEN cleanup_attempts + 1 >= {} THEN 'failed' ELSE 'pending' END, "
            "cleanup_updated_at = {} WHERE id = {} AND tenant_id = {} RETURNING cleanup_status",
            error[:1000],
            max_attempts,
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )
        return str(rows[0]["cleanup_status"]) if rows else "failed"

    # -- the chat's vector store (CI-12.2) --

    async def claim_vector_store(self, tenant_id: UUID, chat_id: UUID, provider: str, now: datetime) -> bool:
        try:
            await self._sql.execute(
                "INSERT INTO chat_vector_stores (id, tenant_id, chat_id, vector_store_id, provider, file_count, "
                "created_at) VALUES ({}, {}, {}, NULL, {}, 0, {})",
                uuid4(),
                tenant_id,
                chat_id,
                provider,
                self._sql.ts(now),
            )
        except UniqueViolation:
            return False
        return True

    async def vector_store_state(self, tenant_id: UUID, chat_id: UUID) -> tuple[bool, str | None]:
        row = await self._sql.fetch_one(
            "SELECT vector_store_id FROM chat_vector_stores WHERE chat_id = {} AND tenant_id = {}",
            chat_id,
            tenant_id,
        )
        return (row is not None, row["vector_store_id"] if row else None)

    async def set_vector_store(self, tenant_id: UUID, chat_id: UUID, vector_store_id: str) -> bool:
        rows = await self._sql.fetch(
            "UPDATE chat_vector_stores SET vector_store_id = {} WHERE chat_id = {} AND tenant_id = {} "
            "AND vector_store_id IS NULL RETURNING id",
            vector_store_id,
            chat_id,
            tenant_id,
        )
        return bool(rows)

    async def drop_vector_store_claim(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "DELETE FROM chat_vector_stores WHERE chat_id = {} AND tenant_id = {} AND vector_store_id IS NULL",
            chat_id,
            tenant_id,
        )

    async def count_vector_store_file(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "UPDATE chat_vector_stores SET file_count = file_count + 1 WHERE chat_id = {} AND tenant_id = {}",
            chat_id,
            tenant_id,
        )

    async def vector_store_of(self, tenant_id: UUID, chat_id: UUID) -> tuple[str | None, str] | None:
        row = await self._sql.fetch_one(
            "SELECT vector_store_id, provider FROM chat_vector_stores WHERE chat_id = {} AND tenant_id = {}",
            chat_id,
            tenant_id,
        )
        return (row["vector_store_id"], row["provider"]) if row else None

    async def forget_vector_store(self, tenant_id: UUID, chat_id: UUID) -> None:
        await self._sql.execute(
            "DELETE FROM chat_vector_stores WHERE chat_id = {} AND tenant_id = {}", chat_id, tenant_id
        )

    async def pending_cleanup_of_chat(self, tenant_id: UUID, chat_id: UUID) -> list[AttachmentRecord]:
        rows = await self._sql.fetch(
            "SELECT * FROM attachments WHERE chat_id = {} AND tenant_id = {} AND cleanup_status = 'pending' "
            "ORDER BY created_at, id",
            chat_id,
            tenant_id,
        )
        return [record_of(r) for r in rows]

    async def any_cleanup_failed(self, tenant_id: UUID, chat_id: UUID) -> bool:
        row = await self._sql.fetch_one(
            "SELECT 1 AS one FROM attachments WHERE chat_id = {} AND tenant_id = {} AND cleanup_status = 'failed'",
            chat_id,
            tenant_id,
        )
        return row is not None

    async def stale_cleanups(self, before: datetime, limit: int) -> list[tuple[AttachmentRecord, bool]]:
        rows = await self._sql.fetch(
            "SELECT a.*, c.deleted_at AS chat_deleted_at FROM attachments a JOIN chats c ON c.id = a.chat_id "
            "WHERE a.cleanup_status = 'pending' AND a.cleanup_updated_at < {} "
            f"ORDER BY a.cleanup_updated_at, a.id LIMIT {int(limit)}",
            self._sql.ts(before),
        )
        return [(record_of(r), r["chat_deleted_at"] is not None) for r in rows]

    async def touch_cleanup(self, tenant_id: UUID, attachment_id: UUID, now: datetime) -> None:
        await self._sql.execute(
            "UPDATE attachments SET cleanup_updated_at = {} WHERE id = {} AND tenant_id = {}",
            self._sql.ts(now),
            attachment_id,
            tenant_id,
        )
