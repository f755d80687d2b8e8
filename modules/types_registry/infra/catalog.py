"""The kernel's plugin catalog seam, backed by the registry (K-10.3, K-10.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fabrikit.kernel.plugins import CatalogEntry, CatalogNotReady

from ..domain.errors import NotReady
from ..domain.registry import TypesRegistry
from ..sdk import ListQuery, RegisterError


class RegistryCatalog:
    def __init__(self, registry: TypesRegistry, export_check: Any = None) -> None:
        self._registry = registry
        self._export_check = export_check

    async def register_entities(self, entities: Sequence[Mapping[str, Any]]) -> list[str | None]:
        results = await self._registry.register(entities)
        return [r.error if isinstance(r, RegisterError) else None for r in results]

    async def instances(self, pattern: str) -> list[CatalogEntry]:
        try:
            found = await self._registry.list(ListQuery(pattern=pattern, is_schema=False))
        except NotReady:
            raise CatalogNotReady("types registry is not ready") from None
        return [CatalogEntry(e.gts_id, e.content, is_schema=False) for e in found]

    async def list_entries(self, pattern: str | None) -> list[CatalogEntry]:
        found = await self._registry.list(ListQuery(pattern=pattern))
        return [CatalogEntry(e.gts_id, e.content, is_schema=e.is_schema) for e in found]

    async def export_check(self) -> list[str]:
        return list(self._export_check()) if self._export_check is not None else []

    def is_ready(self) -> bool:
        return self._registry.is_ready()
