"""The ``Store`` port over one module ``Database``: transactions plus one repository per table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fabrikit.kernel.db import Database

from .repo_attachments import AttachmentsRepository
from .repo_chats import ChatsRepository
from .repo_messages import MessagesRepository
from .repo_quota import QuotaRepository
from .repo_reactions import ReactionsRepository
from .repo_summaries import SummariesRepository
from .repo_turns import TurnsRepository
from .sql import Sql


class DbTransactions:
    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        async with self._db.transaction(write=True) as txn:
            yield txn


class DbStore:
    def __init__(self, db: Database) -> None:
        sql = Sql(db)
        self.db = db
        self.tx = DbTransactions(db)
        self.chats = ChatsRepository(sql)
        self.turns = TurnsRepository(sql)
        self.messages = MessagesRepository(sql)
        self.attachments = AttachmentsRepository(sql)
        self.reactions = ReactionsRepository(sql)
        self.quota = QuotaRepository(sql)
        self.summaries = SummariesRepository(sql)
