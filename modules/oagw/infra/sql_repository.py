"""``UpstreamRepository`` / ``RouteRepository`` over the kernel's raw SQL helpers (G-6.2), SQLite and PostgreSQL.

Every read-then-write runs in ``transaction(write=True)``; a unique violation that slips past the pre-check (a
concurrent insert in another process) still maps to ``ConflictError``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from fabrikit.kernel.db import Database

from ..domain.alias import normalize_alias
from ..sdk import ConflictError, NotFoundError, Route, Upstream
from .tables import ROUTES_TABLE, UPSTREAMS_TABLE

_UPSTREAM_JSON = ("server", "auth", "headers", "plugins", "rate_limit", "cors", "tags")
_UPSTREAM_COLUMNS = (
    "id",
    "tenant_id",
    "alias",
    "protocol",
    "enabled",
    "allow_private_network",
    *_UPSTREAM_JSON,
)
_ROUTE_JSON = ("match_spec", "plugins", "rate_limit", "cors", "tags")
_ROUTE_COLUMNS = ("id", "tenant_id", "upstream_id", "priority", "enabled", *_ROUTE_JSON)


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def _unjson(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


def _is_unique_violation(exc: BaseException) -> bool:
    # asyncpg.UniqueViolationError / sqlite3.IntegrityError, matched by name so both engines need no import here.
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"UniqueViolationError", "IntegrityError", "IntegrityConstraintViolationError"})


def _placeholders(count: int) -> str:
    return ", ".join(["{}"] * count)


# --- upstreams --------------------------------------------------------------------------------------------------
def _upstream_values(upstream: Upstream) -> list[Any]:
    return [
        upstream.id,
        str(upstream.tenant_id),
        normalize_alias(upstream.alias),
        upstream.protocol,
        upstream.enabled,
        upstream.allow_private_network,
        _json(upstream.server),
        _json(upstream.auth),
        _json(upstream.headers),
        _json(upstream.plugins),
        _json(upstream.rate_limit),
        _json(upstream.cors),
        _json(upstream.tags),
    ]


def _upstream_of(row: dict[str, Any]) -> Upstream:
    raw = {name: row[name] for name in ("id", "tenant_id", "alias", "protocol")}
    raw["enabled"] = bool(row["enabled"])
    raw["allow_private_network"] = bool(row["allow_private_network"])
    for name in _UPSTREAM_JSON:
        raw[name] = _unjson(row[name])
    return msgspec.convert(raw, Upstream, strict=False)


class SqlUpstreamRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._select = f"SELECT {', '.join(_UPSTREAM_COLUMNS)} FROM {UPSTREAMS_TABLE}"

    async def _one(self, where: str, *args: Any) -> Upstream | None:
        row = await self._db.fetch_one(f"{self._select} WHERE {where}", *args)
        return _upstream_of(row) if row is not None else None

    async def insert(self, upstream: Upstream) -> None:
        async with self._db.transaction(write=True):
            if await self._one("id = {}", upstream.id) is not None:
                raise ConflictError("an upstream with this id already exists")
            if await self.find_by_alias(upstream.tenant_id, upstream.alias) is not None:
                raise ConflictError("an upstream with this alias already exists in the tenant")
            try:
                await self._db.execute(
                    f"INSERT INTO {UPSTREAMS_TABLE} ({', '.join(_UPSTREAM_COLUMNS)}) "
                    f"VALUES ({_placeholders(len(_UPSTREAM_COLUMNS))})",
                    *_upstream_values(upstream),
                )
            except Exception as exc:
                if _is_unique_violation(exc):
                    raise ConflictError("an upstream with this alias already exists in the tenant") from None
                raise

    async def get(self, tenant_id: UUID, upstream_id: str) -> Upstream | None:
        return await self._one("id = {} AND tenant_id = {}", upstream_id, str(tenant_id))

    async def find_by_alias(self, tenant_id: UUID, alias: str) -> Upstream | None:
        return await self._one("tenant_id = {} AND alias = {}", str(tenant_id), normalize_alias(alias))

    async def find_by_alias_in(
        self, tenant_ids: Sequence[UUID], alias: str
    ) -> builtins.list[builtins.list[Upstream]]:
        if not tenant_ids:
            return []
        keys = [str(t) for t in tenant_ids]
        rows = await self._db.fetch(
            f"{self._select} WHERE alias = {{}} AND tenant_id IN ({_placeholders(len(keys))})",
            normalize_alias(alias),
            *keys,
        )
        by_tenant: dict[str, builtins.list[Upstream]] = {}
        for row in rows:
            by_tenant.setdefault(str(row["tenant_id"]), []).append(_upstream_of(row))
        return [by_tenant.get(key, []) for key in keys]

    async def list(self, tenant_id: UUID, *, limit: int = 50, offset: int = 0) -> builtins.list[Upstream]:
        rows = await self._db.fetch(
            f"{self._select} WHERE tenant_id = {{}} ORDER BY id LIMIT {{}} OFFSET {{}}",
            str(tenant_id),
            limit,
            offset,
        )
        return [_upstream_of(row) for row in rows]

    async def update(self, upstream: Upstream) -> None:
        async with self._db.transaction(write=True):
            if await self.get(upstream.tenant_id, upstream.id) is None:
                raise NotFoundError("upstream not found", entity="upstream")
            owner = await self.find_by_alias(upstream.tenant_id, upstream.alias)
            if owner is not None and owner.id != upstream.id:
                raise ConflictError("an upstream with this alias already exists in the tenant")
            values = _upstream_values(upstream)
            assignments = ", ".join(f"{name} = {{}}" for name in _UPSTREAM_COLUMNS[1:])
            try:
                await self._db.execute(
                    f"UPDATE {UPSTREAMS_TABLE} SET {assignments} WHERE id = {{}}", *values[1:], values[0]
                )
            except Exception as exc:
                if _is_unique_violation(exc):
                    raise ConflictError("an upstream with this alias already exists in the tenant") from None
                raise

    async def delete(self, tenant_id: UUID, upstream_id: str) -> bool:
        async with self._db.transaction(write=True):
            if await self.get(tenant_id, upstream_id) is None:
                return False
            # Routes go with it (ON DELETE CASCADE, G-3.5).
            await self._db.execute(
                f"DELETE FROM {UPSTREAMS_TABLE} WHERE id = {{}} AND tenant_id = {{}}",
                upstream_id,
                str(tenant_id),
            )
            return True


# --- routes -----------------------------------------------------------------------------------------------------
def _route_values(route: Route) -> list[Any]:
    return [
        route.id,
        str(route.tenant_id),
        route.upstream_id,
        route.priority,
        route.enabled,
        _json(route.match),
        _json(route.plugins),
        _json(route.rate_limit),
        _json(route.cors),
        _json(route.tags),
    ]


def _route_of(row: dict[str, Any]) -> Route:
    raw: dict[str, Any] = {name: row[name] for name in ("id", "tenant_id", "upstream_id", "priority")}
    raw["enabled"] = bool(row["enabled"])
    raw["match"] = _unjson(row["match_spec"])
    for name in ("plugins", "rate_limit", "cors", "tags"):
        raw[name] = _unjson(row[name])
    return msgspec.convert(raw, Route, strict=False)


class SqlRouteRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._select = f"SELECT {', '.join(_ROUTE_COLUMNS)} FROM {ROUTES_TABLE}"

    async def insert(self, route: Route) -> None:
        async with self._db.transaction(write=True):
            if await self._db.fetch_one(f"SELECT id FROM {ROUTES_TABLE} WHERE id = {{}}", route.id):
                raise ConflictError("a route with this id already exists")
            try:
                await self._db.execute(
                    f"INSERT INTO {ROUTES_TABLE} ({', '.join(_ROUTE_COLUMNS)}) "
                    f"VALUES ({_placeholders(len(_ROUTE_COLUMNS))})",
                    *_route_values(route),
                )
            except Exception as exc:
                if _is_unique_violation(exc):
                    raise ConflictError("a route with this id already exists") from None
                raise

    async def get(self, tenant_id: UUID, route_id: str) -> Route | None:
        row = await self._db.fetch_one(
            f"{self._select} WHERE id = {{}} AND tenant_id = {{}}", route_id, str(tenant_id)
        )
        return _route_of(row) if row is not None else None

    async def list(
        self, tenant_id: UUID, *, upstream_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[Route]:
        where, args = "tenant_id = {}", [str(tenant_id)]
        if upstream_id is not None:
            where += " AND upstream_id = {}"
            args.append(upstream_id)
        rows = await self._db.fetch(
            f"{self._select} WHERE {where} ORDER BY id LIMIT {{}} OFFSET {{}}", *args, limit, offset
        )
        return [_route_of(row) for row in rows]

    async def list_by_upstream(self, upstream_id: str) -> builtins.list[Route]:
        rows = await self._db.fetch(f"{self._select} WHERE upstream_id = {{}} ORDER BY id", upstream_id)
        return [_route_of(row) for row in rows]

    async def update(self, route: Route) -> None:
        async with self._db.transaction(write=True):
            if await self.get(route.tenant_id, route.id) is None:
                raise NotFoundError("route not found", entity="route")
            values = _route_values(route)
            assignments = ", ".join(f"{name} = {{}}" for name in _ROUTE_COLUMNS[1:])
            await self._db.execute(
                f"UPDATE {ROUTES_TABLE} SET {assignments} WHERE id = {{}}", *values[1:], values[0]
            )

    async def delete(self, tenant_id: UUID, route_id: str) -> bool:
        async with self._db.transaction(write=True):
            if await self.get(tenant_id, route_id) is None:
                return False
            await self._db.execute(f"DELETE FROM {ROUTES_TABLE} WHERE id = {{}}", route_id)
            return True

    async def delete_by_upstream(self, upstream_id: str) -> int:
        async with self._db.transaction(write=True):
            rows = await self._db.fetch(
                f"SELECT id FROM {ROUTES_TABLE} WHERE upstream_id = {{}}", upstream_id
            )
            await self._db.execute(f"DELETE FROM {ROUTES_TABLE} WHERE upstream_id = {{}}", upstream_id)
            return len(rows)
