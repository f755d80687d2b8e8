"""Plugin specs, definitions and the catalog seam to the types registry (K-10, K-10.1)."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from ..errors import Unavailable
from ..security import PLUGIN_BASE_SCHEMA_ID

PLUGIN_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SEGMENT_RE = re.compile(
    r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.v(0|[1-9][0-9]*)$"
)
DRAFT_07 = "http://json-schema.org/draft-07/schema#"


class PluginDefinitionError(TypeError):
    pass


@dataclass(frozen=True)
class PluginSpec:
    """An extension point a host module defines in its ``sdk.py``."""

    id: str
    iface: type
    properties: type[msgspec.Struct] | Mapping[str, Any] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        # Most specs chain from the base id; some (oagw's auth/guard/transform) are root types with the
        # base's shape. Both are GTS type ids.
        if not self.id.startswith("gts.") or not self.id.endswith("~"):
            raise PluginDefinitionError(f"plugin spec id '{self.id}' must be a GTS type id (gts.…~)")

    @property
    def derives_from_base(self) -> bool:
        return self.id.startswith(PLUGIN_BASE_SCHEMA_ID)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema registered in the types registry (K-10); see ``plugin_spec_schema``."""
        return plugin_spec_schema(self.id, self.properties, self.description)


def plugin_spec_schema(
    spec_id: str, properties: type[msgspec.Struct] | Mapping[str, Any] | None, description: str = ""
) -> dict[str, Any]:
    """The JSON Schema a host registers for its plugin spec (K-10).

    A spec chained from ``gts.x.core.modkit.plugin.v1~`` extends the base through ``allOf``; the base's fields are
    re-stated because ``additionalProperties: false`` ignores properties declared inside ``allOf``. A root spec
    (oagw's ``gts.x.core.oagw.auth_plugin.v1~``) cannot extend it: the base pins instance ids to its own prefix with
    ``x-gts-ref: "/$id"``, so a root spec repeats the base's shape with its own ``x-gts-ref`` instead.
    ``properties`` describes an instance's ``properties`` object (a Struct, or a JSON Schema whose
    ``$defs``/``definitions`` move to the document root so that its references resolve).
    """
    props, hoisted = _properties_schema(properties)
    schema: dict[str, Any] = {
        "$id": "gts://" + spec_id,
        "$schema": DRAFT_07,
        "type": "object",
    }
    if spec_id.startswith(PLUGIN_BASE_SCHEMA_ID):
        schema["allOf"] = [{"$ref": "gts://" + PLUGIN_BASE_SCHEMA_ID}]
    else:
        schema["required"] = ["id", "vendor", "priority", "properties"]
    schema |= {
        "properties": {
            "id": {"type": "string", "x-gts-ref": "/$id"},
            "vendor": {"type": "string"},
            "priority": {"type": "integer"},
            "properties": props,
        },
        "additionalProperties": False,
    }
    schema |= hoisted
    if description:
        schema["description"] = description
    return schema


def _properties_schema(
    props: type[msgspec.Struct] | Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``properties`` schema and what moves to the document root."""
    if props is None:
        return {"type": "object", "additionalProperties": False}, {}
    if isinstance(props, Mapping):
        schema = copy.deepcopy(dict(props))
        schema.pop("$schema", None)
        return schema, {key: schema.pop(key) for key in ("$defs", "definitions") if key in schema}
    (schema,), components = msgspec.json.schema_components([props], ref_template="#/definitions/{name}")
    return schema, {"definitions": components} if components else {}


@dataclass(frozen=True)
class PluginDef:
    """What a distribution registers through ``fabrikit_register_plugins``."""

    name: str
    host: str
    spec_id: str
    instance_id: str
    factory: Callable[[PluginContext], Any]
    config_type: type[msgspec.Struct] | None = None
    vendor: str = "hyperspot"
    priority: int = 100
    properties: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not PLUGIN_NAME_RE.match(self.name):
            raise PluginDefinitionError(f"invalid plugin name '{self.name}': use kebab-case")
        tail = self.instance_id[len(self.spec_id) :] if self.instance_id.startswith(self.spec_id) else ""
        if not tail or not _SEGMENT_RE.match(tail):
            raise PluginDefinitionError(
                f"plugin '{self.name}': instance id '{self.instance_id}' must be the spec id "
                f"'{self.spec_id}' plus one segment vendor.package.namespace.type.vN"
            )


@dataclass
class PluginContext:
    name: str
    config: Any
    vendor: str
    priority: int
    hub: Any
    home_dir: Path
    logger: Any


@dataclass(frozen=True)
class CatalogEntry:
    gts_id: str
    content: Mapping[str, Any]
    is_schema: bool = False
    module: str | None = None


class CatalogNotReady(Exception):
    """The catalog has not activated its staged entries yet (retry later)."""


@runtime_checkable
class PluginCatalog(Protocol):
    """The slice of the types registry the kernel needs; types-registry registers an implementation."""

    async def register_entities(
        self, entities: Sequence[Mapping[str, Any]], module: str | None = None
    ) -> list[str | None]:
        """Registers (or stages) entities; returns one error message or None per entity.

        ``module`` names who registers them (``fabrikit types`` shows it); the kernel passes it only to
        catalogs whose ``register_entities`` accepts that keyword.
        """
        ...

    async def instances(self, pattern: str) -> list[CatalogEntry]:
        """Instances whose id matches the GTS pattern; raises CatalogNotReady before activation."""
        ...

    def is_ready(self) -> bool: ...


@runtime_checkable
class TypeCatalog(Protocol):
    """What ``fabrikit types`` reads from the types registry."""

    async def list_entries(self, pattern: str | None) -> list[CatalogEntry]: ...

    async def export_check(self, fix: bool = False) -> list[str]:
        """Differences between ``schemas/`` and the SDK models (empty when in sync).

        With ``fix`` the folder is rewritten to match and the returned lines say what changed.
        """
        ...


class PluginNotFound(Unavailable):
    code, status, title = "no_plugin_available", 503, "No plugin available"

    def __init__(self, spec_id: str, vendor: str | None) -> None:
        super().__init__(f"no plugin instance of {spec_id} with vendor '{vendor}'")
        self.spec_id, self.vendor = spec_id, vendor


class PluginUnavailable(Unavailable):
    code, status, title = "service_unavailable", 503, "Plugin unavailable"

    def __init__(self, spec_id: str, reason: str) -> None:
        super().__init__(f"plugin for {spec_id} is unavailable: {reason}")
        self.spec_id = spec_id


Factory = Callable[[PluginContext], Any | Awaitable[Any]]
