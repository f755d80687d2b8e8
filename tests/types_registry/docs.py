"""Small builders for the JSON documents the registry tests register."""

from __future__ import annotations

from typing import Any

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

BASE = "gts.acme.app.ns.thing.v1~"


def schema(gts_id: str, *, dialect: str = DRAFT_07, **body: Any) -> dict[str, Any]:
    """A schema document; ``body`` defaults to an open object."""
    return {"$id": f"gts://{gts_id}", "$schema": dialect, "type": "object", **body}


def closed_base(gts_id: str = BASE, *, dialect: str = DRAFT_07) -> dict[str, Any]:
    return schema(
        gts_id,
        dialect=dialect,
        required=["name"],
        properties={
            "id": {"type": "string"},
            "name": {"type": "string", "maxLength": 20},
            "size": {"type": "integer", "minimum": 0, "maximum": 10},
            "kind": {"type": "string", "enum": ["a", "b", "c"]},
        },
        additionalProperties=False,
    )


def derived(gts_id: str, base_id: str, *, dialect: str = DRAFT_07, **overlay: Any) -> dict[str, Any]:
    """A derived schema in the P-1.2.5 shape: ``allOf`` its base plus ``overlay`` at the top level."""
    return {
        "$id": f"gts://{gts_id}",
        "$schema": dialect,
        "type": "object",
        "allOf": [{"$ref": f"gts://{base_id}"}],
        **overlay,
    }


def instance(gts_id: str, **body: Any) -> dict[str, Any]:
    return {"id": gts_id, **body}
