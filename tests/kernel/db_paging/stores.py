"""The tables the paging tests query, on both engines.

* ``piccolo``: a Piccolo ``Table`` with native column types, queried as a ``Table`` source (columns in the
  FieldMap are Piccolo columns).
* ``raw``: a table made by raw DDL in mini-chat's storage forms (SQLite: uuid/timestamp/date/time as TEXT,
  timestamps fixed-width ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, bool 0/1), queried through a raw ``FROM`` with
  a join and aliases (columns in the FieldMap are ``SqlColumn("i.…")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns import (
    UUID as UUIDColumn,
)
from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    DoublePrecision,
    Integer,
    Numeric,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from fabrikit.kernel.db import Database, ScopeColumns, SqlColumn, paginate
from fabrikit.kernel.odata import Field, FieldMap, Page, QueryPlan
from fabrikit.kernel.security import AccessScope
from tests.strategies.db_paging import FIELD_KINDS, SORTABLE, TENANTS

COLUMNS = ("id", "tenant_id", "title", "note", "rank", "n", "score", "price", "flag", "at", "day", "clock")


def make_item_table() -> Any:
    class Item(Table, tablename="item"):
        id = UUIDColumn(primary_key=True)
        tenant_id = UUIDColumn()
        title = Varchar(length=64)
        note = Text(null=True, default=None)
        rank = Integer()
        n = BigInt(null=True, default=None)
        score = DoublePrecision(null=True, default=None)
        price = Numeric(null=True, default=None)
        flag = Boolean(null=True, default=None)
        at = Timestamptz()
        day = Date()
        clock = Time(null=True, default=None)
        __scope__ = ScopeColumns(tenant=tenant_id, resource=id)

    return Item


def _fields(column_of: Any) -> FieldMap:
    return FieldMap(
        {
            name: Field(
                column_of(name), kind, sortable=name in (*SORTABLE, "id"), nullable=name not in SORTABLE
            )  # type: ignore[arg-type]
            for name, kind in FIELD_KINDS.items()
            if name != "id"
        }
        | {"id": Field(column_of("id"), "uuid", sortable=True)}
    )


_RAW_DDL = {
    "sqlite": [
        "CREATE TABLE raw_tenant (id TEXT PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE raw_item (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES raw_tenant (id), "
        "title TEXT NOT NULL, note TEXT, rank INTEGER NOT NULL, n INTEGER, score REAL, price NUMERIC, "
        "flag INTEGER, at TEXT NOT NULL, day TEXT NOT NULL, clock TEXT)",
    ],
    "postgres": [
        "CREATE TABLE raw_tenant (id UUID PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE raw_item (id UUID PRIMARY KEY, tenant_id UUID NOT NULL REFERENCES raw_tenant (id), "
        "title VARCHAR(64) {collate} NOT NULL, note TEXT {collate}, rank INTEGER NOT NULL, n BIGINT, "
        "score DOUBLE PRECISION, price NUMERIC, flag BOOLEAN, at TIMESTAMPTZ NOT NULL, day DATE NOT NULL, clock TIME)",
    ],
}


def sqlite_text(value: Any) -> Any:
    """A Python value in the raw SQLite table's storage form (written independently of ``sql_value``)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        v = value.astimezone(UTC)
        return (
            f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
            f".{v.microsecond:06d}+00:00"
        )
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class Store:
    db: Database
    kind: str
    fields: FieldMap
    source: Any
    scope_kw: dict[str, Any] = field(default_factory=dict)
    table: Any = None
    select: str | None = None

    async def load(self, rows: list[dict[str, Any]]) -> None:
        """Replace the table's content with ``rows``."""
        if self.kind == "piccolo":
            await self.table.delete(force=True)
            if rows:
                await self.table.insert(*(self.table(**row) for row in rows))
            return
        await self.db.execute("DELETE FROM raw_item")
        if not rows:
            return
        placeholders = ", ".join("(" + ", ".join("{}" for _ in COLUMNS) + ")" for _ in rows)
        args = [row[name] for row in rows for name in COLUMNS]
        if self.db.dialect == "sqlite":
            args = [sqlite_text(arg) for arg in args]
        await self.db.execute(f"INSERT INTO raw_item ({', '.join(COLUMNS)}) VALUES {placeholders}", *args)

    async def page(self, plan: QueryPlan, scope: AccessScope | None = None) -> Page[dict[str, Any]]:
        kw = self.scope_kw if scope is not None else {}
        return await paginate(self.db, self.source, plan, scope=scope, select_columns=self.select, **kw)


async def make_store(db: Database, kind: str) -> Store:
    if kind == "piccolo":
        table = make_item_table()
        db.bind(table)
        for ddl in table.create_table(if_not_exists=True).ddl:
            await db.run_ddl(ddl)
        return Store(db, kind, _fields(lambda name: getattr(table, name)), table, table=table)
    # A locale collation (where the server has ICU) proves that string ordering does not follow it.
    collate = ""
    if db.dialect == "postgres" and await db.fetch("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'"):
        collate = 'COLLATE "und-x-icu"'
    for ddl in _RAW_DDL[db.dialect]:
        await db.run_ddl(ddl.replace("{collate}", collate))
    for index, tenant in enumerate(TENANTS):
        value = str(tenant) if db.dialect == "sqlite" else tenant
        await db.execute("INSERT INTO raw_tenant (id, name) VALUES ({}, {})", value, f"tenant {index}")
    source = "raw_item i JOIN raw_tenant t ON t.id = i.tenant_id"
    scope_kw = {"scope_columns": ScopeColumns(tenant="tenant_id", resource="id"), "scope_table": "i"}
    fields = _fields(lambda name: SqlColumn(f"i.{name}"))
    return Store(db, kind, fields, source, scope_kw, select="i.*, t.name AS tenant_name")
