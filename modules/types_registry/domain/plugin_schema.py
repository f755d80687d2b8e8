"""The base plugin schema (P-1.3.1) and the K-10 derived plugin-spec schema builder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fabrikit.kernel.plugins import plugin_spec_schema as build_plugin_spec_schema
from fabrikit.kernel.security import PLUGIN_BASE_SCHEMA_ID

from .errors import InvalidGtsId
from .gts_id import GTS_URI_PREFIX, GtsId
from .validation import DRAFT_07

BASE_PLUGIN_SCHEMA: dict[str, Any] = {
    "$id": GTS_URI_PREFIX + PLUGIN_BASE_SCHEMA_ID,
    "$schema": DRAFT_07,
    "description": "Base of every plugin instance: who implements a plugin spec, and how strongly it bids.",
    "type": "object",
    "required": ["id", "vendor", "priority", "properties"],
    "properties": {
        "id": {"type": "string", "x-gts-ref": "/$id"},
        "vendor": {"type": "string"},
        "priority": {"type": "integer", "description": "Lower wins."},
        "properties": {"type": "object"},
    },
    "additionalProperties": False,
}


def plugin_spec_schema(
    spec_id: str, properties_schema: Mapping[str, Any], description: str | None = None
) -> dict[str, Any]:
    """The schema a host registers for its plugin spec (K-10), for a spec deriving from the base plugin schema.

    ``properties_schema`` describes the instance's ``properties`` object (e.g. from ``msgspec.json.schema``); the
    kernel's builder, which ``PluginSpec.schema()`` uses too, lays out the document.
    """
    gts_id = GtsId.parse(spec_id)
    if not gts_id.is_schema or gts_id.type_id is None or not gts_id.id.startswith(PLUGIN_BASE_SCHEMA_ID):
        raise InvalidGtsId(
            f"Plugin spec id '{gts_id.id}' must be a type id deriving from '{PLUGIN_BASE_SCHEMA_ID}'"
        )
    return build_plugin_spec_schema(gts_id.id, properties_schema, description or "")
