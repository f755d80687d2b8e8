"""Plugin materialization (phase 4) and the per-module ``ctx.plugins`` facade (K-10.2 … K-10.5)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import structlog

from ._config import ConfigError, convert_config
from ._context import PluginRecord
from ._discovery import PluginSource
from ._hub import ClientHub, ClientScope
from .plugins import PluginCatalog, PluginContext, PluginSelector, PluginSpec

T = TypeVar("T")
_log = structlog.get_logger("fabrikit.plugins")


class PluginError(RuntimeError):
    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin '{plugin}': {message}")


class SpecRegistry:
    """Specs registered by host modules in init, shared by the whole runtime."""

    def __init__(self, hub: ClientHub) -> None:
        self.hub = hub
        self.specs: dict[str, tuple[str, PluginSpec]] = {}
        self.pending_schemas: list[dict[str, Any]] = []

    def catalog(self) -> PluginCatalog | None:
        return self.hub.try_get(PluginCatalog)  # type: ignore[type-abstract]


class ModulePlugins:
    """``ctx.plugins`` of one module."""

    def __init__(self, module: str, registry: SpecRegistry) -> None:
        self._module = module
        self._registry = registry

    async def register_spec(self, spec: PluginSpec) -> None:
        """Registers the spec's derived schema in the types registry (staged until post_init)."""
        owner = self._registry.specs.get(spec.id)
        if owner and owner[0] != self._module:
            raise PluginError(spec.id, f"spec already registered by module '{owner[0]}'")
        self._registry.specs[spec.id] = (self._module, spec)
        catalog = self._registry.catalog()
        if catalog is None:
            raise PluginError(spec.id, "plugins require the types-registry module")
        (error,) = await _register_entities(catalog, [spec.schema()], self._module)
        if error:
            raise PluginError(spec.id, f"spec schema rejected: {error}")

    def selector(self, spec: PluginSpec, vendor: str | None = "hyperspot") -> PluginSelector[Any]:
        hub = self._registry.hub
        return PluginSelector(
            spec,
            vendor,
            catalog=self._registry.catalog,
            clients=lambda gts_id: hub.try_get_scoped(spec.iface, ClientScope.gts_id(gts_id)),
        )


async def _register_entities(
    catalog: PluginCatalog, entities: list[dict[str, Any]], module: str
) -> list[str | None]:
    """Tells the catalog who registers, unless it predates the optional ``module`` keyword."""
    try:
        accepts_module = "module" in inspect.signature(catalog.register_entities).parameters
    except (TypeError, ValueError):
        accepts_module = False
    if accepts_module:
        return await catalog.register_entities(entities, module=module)
    return await catalog.register_entities(entities)


def plugin_records(
    sources: Sequence[PluginSource], plugin_cfg: Mapping[str, Any], enabled_modules: set[str]
) -> list[PluginRecord]:
    records = []
    for src in sorted(sources, key=lambda s: s.definition.name):
        d = src.definition
        entry = plugin_cfg.get(d.name)
        vendor = getattr(entry, "vendor", None) or d.vendor
        priority = getattr(entry, "priority", None)
        priority = d.priority if priority is None else priority
        reason = None
        if entry is not None and getattr(entry, "enabled", True) is False:
            reason = "disabled in config"
        elif d.host not in enabled_modules:
            reason = f"host module '{d.host}' is not enabled"
        records.append(
            PluginRecord(
                d.name,
                d.host,
                d.spec_id,
                d.instance_id,
                vendor,
                priority,
                src.distribution,
                reason is None,
                reason,
            )
        )
    return records


def validate_plugin_config(src: PluginSource, entry: Any) -> Any:
    d = src.definition
    raw = getattr(entry, "config", None)
    if d.config_type is None:
        if raw:
            raise ConfigError([f"plugins.{d.name}.config: plugin '{d.name}' takes no config"])
        return None
    return convert_config({} if raw is None else raw, d.config_type, f"plugins.{d.name}.config")


async def materialize(
    record: PluginRecord,
    src: PluginSource,
    config: Any,
    registry: SpecRegistry,
    home: Path,
    timeout: float,
) -> Any:
    """Builds one plugin client, registers its instance in the catalog and its client in the hub (K-10.3)."""
    d = src.definition
    owner = registry.specs.get(d.spec_id)
    if owner is None:
        raise PluginError(d.name, f"host '{d.host}' did not register spec {d.spec_id} in init")
    spec = owner[1]
    catalog = registry.catalog()
    if catalog is None:
        raise PluginError(d.name, "plugins require the types-registry module")
    pctx = PluginContext(
        name=d.name,
        config=config,
        vendor=record.vendor,
        priority=record.priority,
        hub=registry.hub,
        home_dir=home / "plugins" / d.name,
        logger=_log.bind(plugin=d.name),
    )
    async with asyncio.timeout(timeout):
        client = d.factory(pctx)
        if inspect.isawaitable(client):
            client = await client
    try:
        ok = isinstance(client, spec.iface)
    except TypeError:
        ok = True
    if not ok:
        raise PluginError(d.name, f"factory returned {type(client).__name__}, not a {spec.iface.__name__}")
    instance = {
        "id": d.instance_id,
        "vendor": record.vendor,
        "priority": record.priority,
        "properties": dict(d.properties),
    }
    (error,) = await _register_entities(catalog, [instance], "plugin:" + d.name)
    if error:
        raise PluginError(d.name, f"instance rejected by the types registry: {error}")
    registry.hub.register_scoped(spec.iface, ClientScope.gts_id(d.instance_id), client)
    return client
