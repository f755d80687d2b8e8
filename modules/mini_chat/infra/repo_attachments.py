"""What sends need from ``attachments``/``message_attachments``/``chat_vector_stores`` (CI-3 P6–P8, C-5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ..domain.ports import AttachmentRow, LinkedAttachment
from .sql import Sql, bool_of, uuid_of

_COLS = (
    "a.id, a.chat_id, a.uploaded_by_user_id, a.filename, a.content_type, a.size_bytes, a.status, "
    "a.attachment_kind, a.for_file_search, a.for_code_interpreter, a.provider_file_id, a.img_thumbnail, "
    "a.img_thumbnail_width, a.img_thumbnail_height, a.deleted_at"
)


def attachment_of(r: dict[str, Any]) -> AttachmentRow:
    thumb = r["img_thumbnail"]
    return AttachmentRow(
        id=uuid_of(r["id"]),
        chat_id=uuid_of(r["chat_id"]),
        uploaded_by_user_id=uuid_of(r["uploaded_by_user_id"]),
        filename=r["filename"],
        content_type=r["content_type"],
        size_bytes=int(r["size_bytes"]),
        status=r["status"],
        attachment_kind=r["attachment_kind"],
        for_file_search=bool_of(r["for_file_search"]),
        for_code_interpreter=bool_of(r["for_code_interpreter"]),
        provider_file_id=r["provider_file_id"],
        img_thumbnail=bytes(thumb) if thumb is not None else None,
        img_thumbnail_width=r["img_thumbnail_width"],
        img_thumbnail_height=r["img_thumbnail_height"],
        deleted=r["deleted_at"] is not None,
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
