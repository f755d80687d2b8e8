"""Delivery, watchdog and metrics tests on a real SQLite file and a real PostgreSQL schema. Fakes only for ports:
provider, model-policy plugin, audit plugins (CI-1.4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from fabrikit.kernel.db import Database
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.authz_resolver.sdk import PolicyEnforcer
from fabrikit.modules.mini_chat.config import MiniChatConfig
from fabrikit.modules.mini_chat.domain.policy import PolicyGateway
from fabrikit.modules.mini_chat.domain.service import MiniChatEngine
from fabrikit.modules.mini_chat.domain.service_api import CreateChatBody, SendMessageBody
from fabrikit.modules.mini_chat.infra.background import Background, kernel_singleton, launch_background
from fabrikit.modules.mini_chat.infra.clock import SystemClock
from fabrikit.modules.mini_chat.infra.outbox import OutboxEnqueuer
from fabrikit.modules.mini_chat.infra.store import DbStore
from fabrikit.plugins.static_authz.plugin import StaticAuthzPlugin
from tests.kernel.db.conftest import pg_session_dsn  # noqa: F401
from tests.mini_chat_engine.conftest import db, db_settings, dialect, module_name  # noqa: F401
from tests.mini_chat_engine.fakes import FakeFiles, FakePolicy, FakeProvider, PolicySource
from tests.mini_chat_engine.helpers import drain

from .fakes import RecordingAudit, StaticAuditSelector

FAST = {
    "poll_interval": 0.05,
    "backoff_base": 0.05,
    "backoff_max": 0.2,
    "reconcile_interval": 0.5,
    "stop_timeout": 2.0,
}


def make_engine(
    database: Database, config: MiniChatConfig, provider: FakeProvider, policy: FakePolicy
) -> MiniChatEngine:
    clock = SystemClock()
    return MiniChatEngine(
        config=config,
        store=DbStore(database),
        authz=PolicyEnforcer(StaticAuthzPlugin()),
        policy=PolicyGateway(PolicySource(policy), clock, config.providers.keys()),
        provider=provider,
        outbox=OutboxEnqueuer(None, config.outbox.num_partitions),
        clock=clock,
        files=FakeFiles(),
    )


class EventsEnv:
    def __init__(self, database: Database, config: MiniChatConfig, module: str) -> None:
        self.db = database
        self.config = config
        self.module = module
        self.provider = FakeProvider()
        self.policy = FakePolicy()
        self.audit = RecordingAudit()
        self.audit_selector = StaticAuditSelector(self.audit)
        self.engine = make_engine(database, config, self.provider, self.policy)
        self.background: Background | None = None
        self.tenant = uuid4()
        self.user = uuid4()

    def ctx(self) -> SecurityContext:
        return SecurityContext(subject_id=self.user, subject_tenant_id=self.tenant)

    async def start(self, *, deliver: bool = True, watchdog: bool = False) -> Background:
        self.background = await launch_background(
            self.db,
            self.engine,
            self.config,
            policy_selector=PolicySource(self.policy),
            audit_selector=self.audit_selector,
            singleton=kernel_singleton(self.db, self.module, retry_interval=0.2) if watchdog else None,
            outbox_timings=FAST,
            start_outbox=deliver,
        )
        return self.background

    async def stop(self) -> None:
        await self.engine.runner.stop(5)
        if self.background is not None:
            await self.background.stop(2.0)
            self.background = None

    async def chat(self, model: str | None = None) -> UUID:
        return (await self.engine.create_chat(self.ctx(), CreateChatBody(model=model))).id

    async def turn(self, chat_id: UUID, content: str = "hello", **body: Any) -> list[Any]:
        start = await self.engine.send_message(self.ctx(), chat_id, SendMessageBody(content=content, **body))
        return await drain(start.handle)

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return list(await self.db.fetch(sql, *args))


async def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Polls until ``check()`` holds; delivery is asynchronous by design (after commit, CI-5.2 step 8)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def config() -> MiniChatConfig:
    return MiniChatConfig()


@pytest.fixture
async def env(db: Database, config: MiniChatConfig, module_name: str) -> AsyncIterator[EventsEnv]:  # noqa: F811
    e = EventsEnv(db, config, module_name)
    try:
        yield e
    finally:
        await e.stop()
