"""Engine tests on a real SQLite file and a real PostgreSQL schema (PG skipped locally when unreachable,
failed under ``CI=true``). Fakes only for ports: provider, policy plugin (CI-1.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from fabrikit.kernel.db import Database, DbSettings, open_database, resolve_db_settings, run_migrations
from fabrikit.kernel.outbox import Outbox, Success
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.authz_resolver.sdk import PolicyEnforcer
from fabrikit.modules.mini_chat.config import MiniChatConfig
from fabrikit.modules.mini_chat.domain.policy import PolicyGateway
from fabrikit.modules.mini_chat.domain.service import MiniChatEngine
from fabrikit.modules.mini_chat.infra.clock import SystemClock
from fabrikit.modules.mini_chat.infra.outbox import QUEUES, OutboxEnqueuer, register_queues
from fabrikit.modules.mini_chat.infra.schema import migrations
from fabrikit.modules.mini_chat.infra.store import DbStore
from fabrikit.plugins.static_authz.plugin import StaticAuthzPlugin
from tests.kernel.db.conftest import pg_session_dsn, unique_module_name  # noqa: F401

from .fakes import FakeFiles, FakePolicy, FakeProvider, PolicySource


@pytest.fixture(params=["sqlite", "postgres"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def module_name() -> str:
    return unique_module_name()


@pytest.fixture
def db_settings(dialect: str, tmp_path: Path, request: pytest.FixtureRequest, module_name: str) -> DbSettings:
    name = module_name
    if dialect == "sqlite":
        return resolve_db_settings(name, None, {}, None, tmp_path)
    dsn = request.getfixturevalue("pg_session_dsn")
    return resolve_db_settings(name, {"dsn": dsn, "pool": {"max_size": 6}}, {}, None, tmp_path)


@pytest.fixture
async def db(db_settings: DbSettings, module_name: str) -> AsyncIterator[Database]:
    database = await open_database(module_name, db_settings)
    await run_migrations(database, module_name, migrations(), fabrikit_version="0.0.0")
    try:
        yield database
    finally:
        await database.close()


async def _noop(batch: Any) -> Any:
    return Success()


class Env:
    def __init__(
        self, engine: MiniChatEngine, db: Database, provider: FakeProvider, policy: FakePolicy
    ) -> None:
        self.engine = engine
        self.db = db
        self.provider = provider
        self.policy = policy
        self.files: FakeFiles = engine.attachments._files  # type: ignore[assignment]
        self.tenant = uuid4()
        self.user = uuid4()

    def refresh_policy(self) -> None:
        """A new policy version, as a plugin publishes after a change (the version cache is 60 s)."""
        self.policy.version += 1
        self.engine.policy._versions._items.clear()

    def ctx(self, tenant: UUID | None = None, user: UUID | None = None) -> SecurityContext:
        return SecurityContext(subject_id=user or self.user, subject_tenant_id=tenant or self.tenant)

    async def count(self, table: str, where: str = "1 = 1", *args: Any) -> int:
        row = await self.db.fetch_one(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", *args)
        assert row is not None
        return int(row["n"])


@pytest.fixture
def config() -> MiniChatConfig:
    return MiniChatConfig()


@pytest.fixture
async def env(db: Database, config: MiniChatConfig) -> AsyncIterator[Env]:
    builder = register_queues(Outbox.builder(db), config, {name: _noop for name in QUEUES})
    outbox = await builder.build()
    provider = FakeProvider()
    policy = FakePolicy()
    clock = SystemClock()
    engine = MiniChatEngine(
        config=config,
        store=DbStore(db),
        authz=PolicyEnforcer(StaticAuthzPlugin()),
        policy=PolicyGateway(PolicySource(policy), clock, config.providers.keys()),
        provider=provider,
        outbox=OutboxEnqueuer(outbox, config.outbox.num_partitions),
        clock=clock,
        files=FakeFiles(),
    )
    yield Env(engine, db, provider, policy)
    await engine.runner.stop(5)
