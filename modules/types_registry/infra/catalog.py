"""The kernel's plugin and type catalog seams, backed by the registry (K-10.3, K-10.4, K-19 ``types``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fabrikit.kernel.plugins import CatalogEntry, CatalogNotReady

from ..domain.errors import NotReady
from ..domain.registry import TypesRegistry
from ..sdk import ListQuery, RegisterError
from .origins import Origins
from .schemas_dir import EXPORT_HINT, ModuleSchema, differences, sdk_plugin_specs, write_schemas


class RegistryCatalog:
    """``PluginCatalog`` and ``TypeCatalog`` in one: registrations go to the registry, registrants to ``origins``."""

    def __init__(self, registry: TypesRegistry, origins: Origins, schemas_dir: Path | None = None) -> None:
        self._registry = registry
        self._origins = origins
        self._schemas_dir = schemas_dir

    async def register_entities(
        self, entities: Sequence[Mapping[str, Any]], module: str | None = None
    ) -> list[str | None]:
        results = await self._registry.register(entities)
        self._origins.record(results, module)
        return [r.error if isinstance(r, RegisterError) else None for r in self._origins.explain(results)]

    async def instances(self, pattern: str) -> list[CatalogEntry]:
        try:
            found = await self._registry.list(ListQuery(pattern=pattern, is_schema=False))
        except NotReady:
            raise CatalogNotReady("types registry is not ready") from None
        return [CatalogEntry(e.gts_id, e.content, is_schema=False) for e in found]

    async def list_entries(self, pattern: str | None) -> list[CatalogEntry]:
        found = await self._registry.list(ListQuery(pattern=pattern))
        return [
            CatalogEntry(
                e.gts_id,
                e.content,
                is_schema=e.is_schema,
                module=", ".join(self._origins.of(e.gts_id)) or None,
            )
            for e in found
        ]

    async def export_check(self, fix: bool = False) -> list[str]:
        """``schemas/`` against what this runtime's modules registered, plus the plugin specs SDKs declare.

        Meaningful in the runtime ``fabrikit types --export[-check]`` builds: every bundled module enabled and
        ``load_bundled_schemas`` off, so the files cannot mask a schema no module registers any more.
        """
        expected = self.module_schemas()
        if fix:
            return write_schemas(expected, self._schemas_dir)
        problems = differences(expected, self._schemas_dir)
        return [*problems, EXPORT_HINT] if problems else []

    def module_schemas(self) -> list[ModuleSchema]:
        """The schemas the SDK code produces: registered by a module here, or declared by a bundled SDK."""
        found: dict[str, ModuleSchema] = {}
        for gts_id in self._origins.module_schema_ids():
            entity = self._registry.get_sync(gts_id)
            if entity.is_schema:
                origin = self._origins.of(gts_id)[0]
                found[gts_id] = ModuleSchema(gts_id, dict(entity.content), f"module '{origin}'")
        for spec in sdk_plugin_specs():
            found.setdefault(spec.gts_id, spec)
        return [found[gid] for gid in sorted(found)]

    def is_ready(self) -> bool:
        return self._registry.is_ready()
