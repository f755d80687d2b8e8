"""``storage: db`` schema (G-6.2): ``oagw_upstreams`` and ``oagw_routes``, created by a kernel migration.

Scalars are columns; nested blocks (server, auth, headers, plugins, rate_limit, cors, tags, match) are JSON text,
so one DDL serves SQLite and PostgreSQL. The oagw module's database is its own (K-14.2).
"""

from __future__ import annotations

from fabrikit.kernel.db import Migration, MigrationContext

UPSTREAMS_TABLE = "oagw_upstreams"
ROUTES_TABLE = "oagw_routes"

_UPSTREAMS_DDL = f"""
CREATE TABLE IF NOT EXISTS {UPSTREAMS_TABLE} (
    id VARCHAR(128) PRIMARY KEY,
    tenant_id VARCHAR(36) NOT NULL,
    alias VARCHAR(253) NOT NULL,
    protocol VARCHAR(255) NOT NULL,
    enabled BOOLEAN NOT NULL,
    allow_private_network BOOLEAN NOT NULL,
    server TEXT NOT NULL,
    auth TEXT,
    headers TEXT,
    plugins TEXT,
    rate_limit TEXT,
    cors TEXT,
    tags TEXT NOT NULL,
    CONSTRAINT oagw_upstreams_tenant_alias UNIQUE (tenant_id, alias)
)
"""

_ROUTES_DDL = f"""
CREATE TABLE IF NOT EXISTS {ROUTES_TABLE} (
    id VARCHAR(128) PRIMARY KEY,
    tenant_id VARCHAR(36) NOT NULL,
    upstream_id VARCHAR(128) NOT NULL REFERENCES {UPSTREAMS_TABLE} (id) ON DELETE CASCADE,
    match_spec TEXT NOT NULL,
    plugins TEXT,
    rate_limit TEXT,
    cors TEXT,
    tags TEXT NOT NULL,
    priority INTEGER NOT NULL,
    enabled BOOLEAN NOT NULL
)
"""


async def _create_tables(mctx: MigrationContext) -> None:
    await mctx.execute(_UPSTREAMS_DDL)
    await mctx.execute(_ROUTES_DDL)
    await mctx.create_index("oagw_routes_upstream_id", ROUTES_TABLE, ["upstream_id"])
    await mctx.create_index("oagw_routes_tenant_id", ROUTES_TABLE, ["tenant_id"])


MIGRATIONS = (Migration("0001_oagw_upstreams_and_routes", _create_tables),)
