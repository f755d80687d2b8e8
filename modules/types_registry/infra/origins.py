"""Who registered each GTS entity: a module, a plugin (``plugin:<name>``) or the ``schemas/`` folder.

``fabrikit types`` shows it, and ``fabrikit types --export`` writes a ``schemas/`` file for every schema a module
registered. An entity registered twice with identical content (a spec that also ships as a file) keeps every
registrant, in order.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fabrikit.kernel import ModuleState, RuntimeView

from ..domain.registry import TypesRegistry
from ..sdk import GtsEntity, ListQuery, RegisterError, RegisterOk, RegisterResult
from .schemas_dir import SCHEMAS_ORIGIN, schema_file_name

PLUGIN_ORIGIN_PREFIX = "plugin:"


class Origins:
    def __init__(self) -> None:
        self._by_id: dict[str, list[str]] = {}

    def record(self, results: Iterable[RegisterResult], origin: str | None) -> None:
        if origin is None:
            return
        for result in results:
            if isinstance(result, RegisterOk):
                registrants = self._by_id.setdefault(result.entity.gts_id, [])
                if origin not in registrants:
                    registrants.append(origin)

    def of(self, gts_id: str) -> list[str]:
        """Registrants of ``gts_id``: modules and plugins first (in registration order), ``schemas/`` last."""
        registrants = self._by_id.get(gts_id, [])
        return [o for o in registrants if o != SCHEMAS_ORIGIN] + [
            o for o in registrants if o == SCHEMAS_ORIGIN
        ]

    def from_schemas_dir(self, gts_id: str) -> bool:
        return SCHEMAS_ORIGIN in self._by_id.get(gts_id, ())

    def module_schema_ids(self) -> list[str]:
        """Ids some module registered itself (not a plugin, not only the ``schemas/`` folder)."""
        return sorted(
            gid
            for gid, registrants in self._by_id.items()
            if any(o != SCHEMAS_ORIGIN and not o.startswith(PLUGIN_ORIGIN_PREFIX) for o in registrants)
        )

    def explain(self, results: list[RegisterResult]) -> list[RegisterResult]:
        """Points a conflict with a ``schemas/`` file at the fix: the file is stale, re-export it."""
        out: list[RegisterResult] = []
        for result in results:
            if (
                isinstance(result, RegisterError)
                and result.code == "TYPES_REGISTRY_ALREADY_EXISTS"
                and result.gts_id is not None
                and self.from_schemas_dir(result.gts_id)
            ):
                result = RegisterError(
                    gts_id=result.gts_id,
                    code=result.code,
                    error=f"{result.error}: schemas/{schema_file_name(result.gts_id)} is out of date with "
                    "the SDK; run `fabrikit types --export`",
                )
            out.append(result)
        return out


def initializing_module(view: RuntimeView) -> str | None:
    """The module whose ``init`` is running: the kernel runs them one at a time (K-6)."""
    for record in view.modules():
        if record.state is ModuleState.INITIALIZING:
            return record.name
    return None


class AttributingClient:
    """The ``TypesRegistryClient`` published in the hub: the registry, plus a note of who registered what.

    Modules that register types directly (not through ``ctx.plugins.register_spec``) do so in their ``init``,
    so the registrant is the module the runtime is initializing at that moment.
    """

    def __init__(self, registry: TypesRegistry, origins: Origins, current: Callable[[], str | None]) -> None:
        self._registry = registry
        self._origins = origins
        self._current = current

    async def register(self, entities: Sequence[Mapping[str, Any]]) -> builtins.list[RegisterResult]:
        results = await self._registry.register(entities)
        self._origins.record(results, self._current())
        return self._origins.explain(results)

    async def get(self, gts_id: str) -> GtsEntity:
        return await self._registry.get(gts_id)

    async def list(self, query: ListQuery | None = None) -> builtins.list[GtsEntity]:
        return await self._registry.list(query)

    def is_ready(self) -> bool:
        return self._registry.is_ready()

    def __getattr__(self, name: str) -> Any:
        # Engine extras (validator_for, version, …) stay reachable for in-process callers.
        return getattr(self._registry, name)
