"""The notes module's public face: what other modules may import."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

import msgspec

from fabrikit.kernel.errors import NotFound
from fabrikit.kernel.security import SecurityContext


class Note(msgspec.Struct, frozen=True):
    id: UUID
    text: str
    created_at: datetime


class NoteNotFound(NotFound):
    code, status, title = "note_not_found", 404, "Note not found"


@runtime_checkable
class NotesClient(Protocol):
    async def add(self, ctx: SecurityContext, text: str) -> Note: ...

    async def get(self, ctx: SecurityContext, note_id: UUID) -> Note: ...

    async def list(self, ctx: SecurityContext) -> list[Note]: ...
