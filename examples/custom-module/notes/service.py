"""Domain logic: every query is scoped to the caller's tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fabrikit.kernel.db import Database
from fabrikit.kernel.security import SecurityContext

from .sdk import Note, NoteNotFound


def _note(row: dict[str, Any]) -> Note:
    return Note(
        id=UUID(str(row["id"])), text=row["text"], created_at=datetime.fromisoformat(str(row["created_at"]))
    )


class NotesService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, ctx: SecurityContext, text: str) -> Note:
        note = Note(id=uuid.uuid4(), text=text, created_at=datetime.now(UTC))
        async with self._db.transaction(write=True):
            await self._db.execute(
                "INSERT INTO notes (id, tenant_id, text, created_at) VALUES ({}, {}, {}, {})",
                str(note.id),
                str(ctx.subject_tenant_id),
                note.text,
                note.created_at.isoformat(),
            )
        return note

    async def get(self, ctx: SecurityContext, note_id: UUID) -> Note:
        row = await self._db.fetch_one(
            "SELECT id, text, created_at FROM notes WHERE id = {} AND tenant_id = {}",
            str(note_id),
            str(ctx.subject_tenant_id),
        )
        if row is None:
            raise NoteNotFound(f"note {note_id} does not exist")
        return _note(row)

    async def list(self, ctx: SecurityContext) -> list[Note]:
        rows = await self._db.fetch(
            "SELECT id, text, created_at FROM notes WHERE tenant_id = {} ORDER BY created_at, id",
            str(ctx.subject_tenant_id),
        )
        return [_note(r) for r in rows]
