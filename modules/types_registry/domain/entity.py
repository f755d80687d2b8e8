"""GTS entities (P-1.2.1, P-1.2.2, P-1.2.7, P-1.2.8): id extraction, kind, canonical form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import msgspec

from .errors import InvalidGtsId, ValidationFailed
from .gts_id import GtsId, GtsSegment, strip_gts_uri

DEFAULT_ENTITY_ID_FIELDS: tuple[str, ...] = ("$id", "gtsId", "id")


class GtsEntity(msgspec.Struct, frozen=True, kw_only=True):
    """A registered type (JSON Schema) or instance. ``content`` is the document as submitted, key order kept."""

    id: UUID
    gts_id: str
    segments: tuple[GtsSegment, ...]
    is_schema: bool
    content: dict[str, Any]
    description: str | None = None

    @property
    def vendor(self) -> str:
        return self.segments[0].vendor

    @property
    def package(self) -> str:
        return self.segments[0].package

    @property
    def namespace(self) -> str:
        return self.segments[0].namespace

    @property
    def type_id(self) -> str | None:
        """The instance's type, or a derived schema's base; None for a root schema."""
        return GtsId(self.gts_id, self.segments).type_id


def extract_gts_id(content: Mapping[str, Any], id_fields: Sequence[str] = DEFAULT_ENTITY_ID_FIELDS) -> str:
    """The first ``id_fields`` entry holding a string; ``gts://`` is stripped from ``$id`` only."""
    for field in id_fields:
        value = content.get(field)
        if isinstance(value, str):
            return strip_gts_uri(value) if field == "$id" else value
    raise InvalidGtsId("No GTS ID field found in entity")


def is_schema_document(content: Mapping[str, Any]) -> bool:
    schema = content.get("$schema")
    return isinstance(schema, str) and schema != ""


def copy_json(content: Mapping[str, Any]) -> dict[str, Any]:
    """A private deep copy through JSON: key order kept, ``1``/``1.0``/``true`` stay distinct."""
    try:
        copied = msgspec.json.decode(msgspec.json.encode(content))
    except (TypeError, msgspec.EncodeError) as exc:
        raise ValidationFailed(f"Entity is not a JSON document: {exc}") from None
    if not isinstance(copied, dict):
        raise ValidationFailed("Entity must be a JSON object")
    return copied


def canonical_bytes(content: Any) -> bytes:
    """Deep-equality key (P-1.2.8): sorted-key JSON, so numbers and booleans keep their JSON type."""
    return msgspec.json.encode(content, order="sorted")


def check_kind(gts_id: GtsId, content: Mapping[str, Any]) -> None:
    """Type ids must be schemas and instances must not carry ``$schema`` (P-1.2.2)."""
    if gts_id.is_schema and not is_schema_document(content):
        raise ValidationFailed(
            f"Type id '{gts_id.id}' ends with '~' but the document is not a JSON Schema "
            "(it needs a non-empty string '$schema')"
        )
    if not gts_id.is_schema and "$schema" in content:
        raise ValidationFailed(
            f"Instance id '{gts_id.id}' does not end with '~' but the document carries '$schema' "
            "(a schema's id must end with '~')"
        )
    if gts_id.is_schema and "$id" in content:
        declared = content["$id"]
        if not isinstance(declared, str) or strip_gts_uri(declared) != gts_id.id:
            raise ValidationFailed(f"Schema '$id' must be 'gts://{gts_id.id}', got {declared!r}")


def build_entity(gts_id: GtsId, content: dict[str, Any]) -> GtsEntity:
    description = content.get("description")
    return GtsEntity(
        id=gts_id.uuid,
        gts_id=gts_id.id,
        segments=gts_id.segments,
        is_schema=gts_id.is_schema,
        content=content,
        description=description if isinstance(description, str) else None,
    )
