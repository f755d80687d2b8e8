"""Piccolo mirrors of the columns that access scopes filter (CI-2.2); queries themselves are raw SQL."""

from __future__ import annotations

from piccolo.columns import UUID as UUIDColumn
from piccolo.table import Table

from fabrikit.kernel.db import ScopeColumns


class Chats(Table, tablename="chats"):
    id = UUIDColumn(primary_key=True)
    tenant_id = UUIDColumn()
    user_id = UUIDColumn()


CHAT_SCOPE = ScopeColumns(tenant=Chats.tenant_id, resource=Chats.id, owner=Chats.user_id)
