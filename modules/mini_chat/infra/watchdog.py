"""Orphan watchdog (CI-14.2): running turns without progress for ``timeout_seconds`` end ``failed`` /
``orphan_timeout`` through the one finalizer, billed ``estimated``, audited ``turn_failed``.

Runs as the ``orphan-watchdog`` singleton. Every finalization is the finalizer's CAS with the staleness test
repeated inside it, so two watchdogs, a live producer and a half-done batch after a lost leadership are harmless:
each orphan is settled exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from fabrikit.kernel.db import Database

from ..config import MiniChatConfig
from ..domain.finalizer import Finalizer, TurnContext
from ..domain.ports import Clock, Store
from ..domain.telemetry import NO_TELEMETRY, Telemetry
from ..domain.turns import ORPHAN_TIMEOUT, Ending
from ..sdk import AuditAttachment
from .sql import Sql, ts_of, uuid_of

_log = logging.getLogger("fabrikit.mini_chat.watchdog")
ORPHAN_ENDING = Ending(kind="orphan", dispatched=True)


class OrphanCandidate(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: UUID
    tenant_id: UUID
    chat_id: UUID
    request_id: UUID
    user_id: UUID | None
    last_progress_at: datetime


class OrphanWatchdog:
    def __init__(
        self,
        db: Database,
        store: Store,
        finalizer: Finalizer,
        config: MiniChatConfig,
        clock: Clock,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._sql = Sql(db)
        self._store = store
        self._finalizer = finalizer
        self._cfg = config.orphan_watchdog
        self._clock = clock
        self._tm = telemetry
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ends ``run`` after the current candidate (module stop)."""
        self._stopping.set()

    async def cutoff(self) -> datetime:
        """Database now − timeout: PostgreSQL's ``now()`` (one clock for every process), SQLite's app clock."""
        now = self._clock.now()
        if self._sql.pg:
            row = await self._sql.fetch_one("SELECT now() AS now")
            assert row is not None
            now = ts_of(row["now"])
        return now - timedelta(seconds=self._cfg.timeout_seconds)

    async def candidates(self, cutoff: datetime) -> list[OrphanCandidate]:
        rows = await self._sql.fetch(
            "SELECT id, tenant_id, chat_id, request_id, requester_user_id, last_progress_at FROM chat_turns "
            "WHERE state = 'running' AND deleted_at IS NULL AND last_progress_at <= {} "
            "ORDER BY last_progress_at, id LIMIT {}",
            self._sql.ts(cutoff),
            self._cfg.batch_size,
        )
        return [
            OrphanCandidate(
                turn_id=uuid_of(r["id"]),
                tenant_id=uuid_of(r["tenant_id"]),
                chat_id=uuid_of(r["chat_id"]),
                request_id=uuid_of(r["request_id"]),
                user_id=None if r["requester_user_id"] is None else uuid_of(r["requester_user_id"]),
                last_progress_at=ts_of(r["last_progress_at"]),
            )
            for r in rows
        ]

    async def scan_once(self) -> int:
        """One pass: finalizes up to ``batch_size`` orphans, oldest first; returns how many this process won."""
        started = self._clock.monotonic()
        try:
            cutoff = await self.cutoff()
            found = await self.candidates(cutoff)
            won = 0
            for candidate in found:
                if self._stopping.is_set():
                    break
                self._tm.count("orphan_detected")
                try:
                    if await self._finalize(candidate, cutoff):
                        won += 1
                except Exception:
                    # Left running: the next pass tries again; a live heartbeat may have saved it meanwhile.
                    _log.exception("orphan finalization failed", extra={"turn_id": str(candidate.turn_id)})
            return won
        finally:
            self._tm.observe("orphan_scan_duration_seconds", self._clock.monotonic() - started)

    async def _finalize(self, c: OrphanCandidate, cutoff: datetime) -> bool:
        if c.user_id is None:
            _log.error("running turn without requester; skipped", extra={"turn_id": str(c.turn_id)})
            return False
        ctx = await self._context(c, c.user_id)
        result = await self._finalizer.finalize(ctx, ORPHAN_ENDING, stale_cutoff=cutoff)
        if result.won:
            self._tm.count("orphan_finalized", reason=ORPHAN_TIMEOUT)
            self._tm.count("streams_aborted", trigger=ORPHAN_TIMEOUT)
            _log.warning("orphan turn finalized", extra={"turn_id": str(c.turn_id)})
        return result.won

    async def _context(self, c: OrphanCandidate, user_id: UUID) -> TurnContext:
        """What the finalizer needs for the usage and audit events; the prompt comes from the stored message."""
        chat = await self._sql.fetch_one(
            "SELECT model FROM chats WHERE id = {} AND tenant_id = {}", c.chat_id, c.tenant_id
        )
        message = await self._sql.fetch_one(
            "SELECT id, content, created_at FROM messages WHERE chat_id = {} AND tenant_id = {} "
            "AND request_id = {} AND role = 'user'",
            c.chat_id,
            c.tenant_id,
            c.request_id,
        )
        user_message_id = uuid_of(message["id"]) if message else c.turn_id
        attachments: tuple[AuditAttachment, ...] = ()
        if message is not None:
            links = await self._store.attachments.links_of(c.tenant_id, c.chat_id, [user_message_id])
            attachments = tuple(
                AuditAttachment(
                    attachment_id=link.attachment.id,
                    attachment_kind=link.attachment.attachment_kind,
                    filename=link.attachment.filename,
                    content_type=link.attachment.content_type,
                    size_bytes=link.attachment.size_bytes,
                    image_used_in_turn=link.attachment.attachment_kind == "image" or None,
                )
                for link in links
            )
        return TurnContext(
            tenant_id=c.tenant_id,
            user_id=user_id,
            chat_id=c.chat_id,
            turn_id=c.turn_id,
            request_id=c.request_id,
            user_message_id=user_message_id,
            user_message_created_at=ts_of(message["created_at"]) if message else c.last_progress_at,
            assistant_message_id=c.turn_id,  # never used: an orphan keeps no answer
            selected_model=str(chat["model"]) if chat else "",
            prompt=str(message["content"]) if message else "",
            attachments=attachments,
        )

    async def run(self) -> None:
        """The singleton body: scan every ``scan_interval_seconds`` until ``stop`` or cancellation (leadership
        lost). Returning only happens after ``stop``, while the module is already stopping."""
        while not self._stopping.is_set():
            try:
                await self.scan_once()
            except Exception:
                _log.exception("orphan scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._cfg.scan_interval_seconds)


def watchdog_for(engine: Any, db: Database, config: MiniChatConfig) -> OrphanWatchdog:
    """The watchdog over a ``MiniChatEngine`` (its store, finalizer, clock and telemetry)."""
    return OrphanWatchdog(
        db,
        engine.store,
        engine.finalizer,
        config,
        engine.clock,
        getattr(engine, "telemetry", NO_TELEMETRY),
    )


__all__ = ["ORPHAN_ENDING", "OrphanCandidate", "OrphanWatchdog", "watchdog_for"]
