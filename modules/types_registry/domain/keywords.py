"""Walks the keywords of a JSON Schema document, telling keywords apart from property names and data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

# Maps whose keys are names (of properties, definitions, …) and whose values are subschemas.
_NAME_TO_SCHEMA = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# Keywords whose values are instance data, never schemas.
_DATA = frozenset({"const", "enum", "default", "examples"})


class Keyword(msgspec.Struct, frozen=True):
    """One keyword occurrence. ``pointer`` locates its schema; ``in_nested_id`` = below a subschema ``$id``."""

    pointer: str
    schema: dict[str, Any]
    name: str
    value: Any
    in_nested_id: bool


def iter_keywords(document: Any) -> Iterator[Keyword]:
    yield from _walk(document, "", nested=False, root=True)


def _walk(node: Any, pointer: str, *, nested: bool, root: bool = False) -> Iterator[Keyword]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{pointer}/{index}", nested=nested)
        return
    if not isinstance(node, dict):
        return
    nested = nested or (not root and isinstance(node.get("$id"), str))
    for name, value in node.items():
        yield Keyword(pointer, node, name, value, nested)
        child = f"{pointer}/{escape_pointer_token(name)}"
        if name in _DATA:
            continue
        if name in _NAME_TO_SCHEMA or (name == "dependencies" and isinstance(value, dict)):
            if isinstance(value, dict):
                for key, sub in value.items():
                    yield from _walk(sub, f"{child}/{escape_pointer_token(key)}", nested=nested)
            continue
        yield from _walk(value, child, nested=nested)


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_MISSING = object()


def resolve_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 lookup; raises ``LookupError`` when the pointer does not resolve."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise LookupError(f"JSON Pointer must start with '/': {pointer!r}")
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token, _MISSING)
        elif isinstance(node, list) and token.isdigit() and (token == "0" or not token.startswith("0")):
            index = int(token)
            node = node[index] if index < len(node) else _MISSING
        else:
            node = _MISSING
        if node is _MISSING:
            raise LookupError(f"JSON Pointer {pointer!r} does not resolve")
    return node
