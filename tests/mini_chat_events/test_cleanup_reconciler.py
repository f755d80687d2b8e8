"""CI-14.3 wiring: the ``cleanup-reconciler`` singleton's leader queues a stale pending cleanup again on its own,
every ``reconcile_interval_seconds`` (the pass itself is tested in ``tests/mini_chat_engine``)."""

from __future__ import annotations

import asyncio
from uuid import UUID

import msgspec
import pytest

from fabrikit.modules.mini_chat.config import MiniChatConfig
from fabrikit.modules.mini_chat.infra.outbox import PAYLOAD_ATTACHMENT_CLEANUP
from tests.mini_chat_engine.fakes import BytesUpload

from .conftest import EventsEnv


@pytest.fixture
def config() -> MiniChatConfig:
    return msgspec.convert(
        {"cleanup": {"stale_after_seconds": 0.01, "reconcile_interval_seconds": 0.1}}, MiniChatConfig
    )


async def _queued(env: EventsEnv) -> int:
    rows = await env.rows(
        "SELECT COUNT(*) AS n FROM modkit_outbox_body WHERE payload_type = {}", PAYLOAD_ATTACHMENT_CLEANUP
    )
    return int(rows[0]["n"])


async def test_the_reconciler_runs_in_the_background(env: EventsEnv) -> None:
    await env.start(deliver=False, watchdog=True)  # nothing is delivered: queued cleanups stay countable
    chat = await env.chat()
    detail = await env.engine.upload_attachment(env.ctx(), chat, BytesUpload("a.txt", "text/plain", b"x"))
    await env.engine.delete_attachment(env.ctx(), chat, UUID(detail.id))
    assert await _queued(env) == 1  # the delete's own
    deadline = asyncio.get_running_loop().time() + 15
    while await _queued(env) < 2:  # queued again by the reconciler: nobody else enqueues it
        assert asyncio.get_running_loop().time() < deadline, "the reconciler never ran"
        await asyncio.sleep(0.05)
