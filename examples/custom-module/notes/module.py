"""Wiring only: manifest, config, migrations, client registration and routes."""

# Litestar types `request.scope` as a closed TypedDict, so the kernel's extension key SECURITY_SCOPE_KEY
# (the documented way to reach the caller) is not a declared key there.
# mypy: disable-error-code="literal-required"

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.params import FromPath, JSONBody

from fabrikit.kernel import Capability, ConfigStruct, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.db import Migration
from fabrikit.kernel.http import SECURITY_SCOPE_KEY, RestRegistrar, authenticated

from .sdk import Note, NotesClient
from .service import NotesService


class NotesConfig(ConfigStruct):
    max_length: int = 1000

    def validate(self) -> None:
        if self.max_length < 1:
            raise ValueError("max_length must be >= 1")


class NewNote(msgspec.Struct):
    text: str


async def _create_notes(mctx: Any) -> None:
    await mctx.execute(
        "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, text TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    await mctx.create_index("ix_notes_tenant", "notes", ["tenant_id", "created_at"])


class NotesModule(Module):
    manifest = Manifest("notes", "0.1.0", capabilities={Capability.DB, Capability.REST})
    config_type = NotesConfig

    def migrations(self) -> list[Migration]:
        return [Migration("m001_notes", _create_notes)]

    async def init(self, ctx: ModuleContext) -> None:
        self.service = NotesService(ctx.db_required())
        ctx.hub.register(NotesClient, self.service)  # type: ignore[type-abstract]

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        service = self.service

        @post("/notes", status_code=201, opt=authenticated("notes.create"))
        async def create_note(request: Request[Any, Any, Any], data: JSONBody[NewNote]) -> Note:
            return await service.add(request.scope[SECURITY_SCOPE_KEY], data.text[: ctx.config.max_length])

        @get("/notes", opt=authenticated("notes.list"))
        async def list_notes(request: Request[Any, Any, Any]) -> list[Note]:
            return await service.list(request.scope[SECURITY_SCOPE_KEY])

        @get("/notes/{note_id:uuid}", opt=authenticated("notes.get"))
        async def get_note(request: Request[Any, Any, Any], note_id: FromPath[UUID]) -> Note:
            return await service.get(request.scope[SECURITY_SCOPE_KEY], note_id)

        rest.include(Router("/notes/v1", route_handlers=[create_note, list_notes, get_note]), module=ctx.name)


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [NotesModule]
