"""Derived schemas must not loosen their base (P-1.2.6).

A derived schema that ``allOf``-references its base can never *accept* more than the base, but a derived schema
that contradicts it (a new property under a closed base, another type, a wider enum) is a bug in the derived
schema: no instance can satisfy both. These checks name such contradictions at registration time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from .gts_id import GTS_URI_PREFIX

SchemaLookup = Callable[[str], Mapping[str, Any] | None]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_COMBINED = ("allOf",)


class SchemaView(msgspec.Struct):
    """The object-level facts of a schema merged over its ``allOf`` parts (and referenced GTS schemas)."""

    properties: dict[str, list[Any]]
    required: set[str]
    closed: bool


def loosening_problems(
    derived: Mapping[str, Any], base_id: str, base: Mapping[str, Any], lookup: SchemaLookup
) -> list[str]:
    """Every way ``derived`` loosens ``base``; empty when it only narrows it."""
    base_view = schema_view(base, lookup)
    derived_view = schema_view(derived, lookup)
    own = own_parts(derived)
    problems: list[str] = []
    missing = sorted(base_view.required - derived_view.required)
    if missing:
        problems.append(f"required never shrinks: base schema '{base_id}' requires {missing}")
    if base_view.closed:
        for name in derived_view.properties:
            if name not in base_view.properties:
                problems.append(
                    f"property '{name}' is not allowed: base schema '{base_id}' is closed "
                    "(additionalProperties: false)"
                )
        for part in own:
            if "additionalProperties" in part and part["additionalProperties"] is not False:
                problems.append(f"additionalProperties reopens the closed base schema '{base_id}'")
            if part.get("patternProperties"):
                problems.append(f"patternProperties adds properties to the closed base schema '{base_id}'")
    for part in own:
        for name, sub in _properties(part).items():
            for base_sub in base_view.properties.get(name, []):
                compare_schemas(f"property '{name}'", sub, base_sub, problems)
    return _unique(problems)


def compare_schemas(where: str, derived: Any, base: Any, problems: list[str]) -> None:
    """Keyword-level narrowing checks of one subschema against its base counterpart, recursively."""
    if not isinstance(derived, Mapping) or not isinstance(base, Mapping):
        return
    _compare_types(where, derived, base, problems)
    _compare_values(where, derived, base, problems)
    _compare_bounds(where, derived, base, problems)
    base_props = _properties(base)
    base_closed = base.get("additionalProperties") is False
    for name, sub in _properties(derived).items():
        if name in base_props:
            compare_schemas(f"{where[:-1]}.{name}'", sub, base_props[name], problems)
        elif base_closed:
            problems.append(f"{where}: property '{name}' is not allowed by the closed base")
    if base_closed and "additionalProperties" in derived and derived["additionalProperties"] is not False:
        problems.append(f"{where}: additionalProperties reopens the closed base")


def schema_view(schema: Mapping[str, Any], lookup: SchemaLookup, _seen: set[str] | None = None) -> SchemaView:
    seen = set() if _seen is None else _seen
    view = SchemaView(properties={}, required=set(), closed=False)
    for part in own_parts(schema):
        for name, sub in _properties(part).items():
            view.properties.setdefault(name, []).append(sub)
        required = part.get("required")
        if isinstance(required, list):
            view.required.update(r for r in required if isinstance(r, str))
        view.closed = view.closed or part.get("additionalProperties") is False
    for target in gts_ref_targets(schema):
        referenced = lookup(target)
        if target in seen or referenced is None:
            continue
        seen.add(target)
        inherited = schema_view(referenced, lookup, seen)
        for name, subs in inherited.properties.items():
            view.properties.setdefault(name, []).extend(subs)
        view.required |= inherited.required
        view.closed = view.closed or inherited.closed
    return view


def own_parts(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schema and its inline ``allOf`` members, recursively; references are not followed."""
    parts = [schema]
    for keyword in _COMBINED:
        members = schema.get(keyword)
        if isinstance(members, list):
            for member in members:
                if isinstance(member, Mapping):
                    parts.extend(own_parts(member))
    return parts


def gts_ref_targets(schema: Mapping[str, Any]) -> list[str]:
    """Whole-document GTS schemas the schema includes through ``$ref`` at its top level or inside ``allOf``."""
    targets: list[str] = []
    for part in own_parts(schema):
        ref = part.get("$ref")
        if isinstance(ref, str) and ref.startswith(GTS_URI_PREFIX) and "#" not in ref.rstrip("#"):
            targets.append(ref[len(GTS_URI_PREFIX) :].rstrip("#"))
    return targets


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, Mapping) else {}


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    value = schema.get("type")
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {t for t in value if isinstance(t, str)}
    return None


def _compare_types(
    where: str, derived: Mapping[str, Any], base: Mapping[str, Any], problems: list[str]
) -> None:
    mine, theirs = _types(derived), _types(base)
    if mine is None or theirs is None:
        return
    extra = {t for t in mine if t not in theirs and not (t == "integer" and "number" in theirs)}
    if extra:
        problems.append(f"{where}: type {sorted(mine)} is not within the base type {sorted(theirs)}")


def _compare_values(
    where: str, derived: Mapping[str, Any], base: Mapping[str, Any], problems: list[str]
) -> None:
    if "pattern" in base and "pattern" in derived and derived["pattern"] != base["pattern"]:
        problems.append(f"{where}: pattern {derived['pattern']!r} differs from the base {base['pattern']!r}")
    values = _allowed_values(derived)
    if "const" in base and values is not None:
        if any(_key(v) != _key(base["const"]) for v in values):
            problems.append(f"{where}: const differs from the base const {base['const']!r}")
    elif isinstance(base.get("enum"), list) and values is not None:
        allowed = {_key(v) for v in base["enum"]}
        extra = [v for v in values if _key(v) not in allowed]
        if extra:
            problems.append(f"{where}: enum values {extra!r} are not in the base enum")


def _compare_bounds(
    where: str, derived: Mapping[str, Any], base: Mapping[str, Any], problems: list[str]
) -> None:
    for keyword in _LOWER_BOUNDS + _UPPER_BOUNDS:
        mine, theirs = derived.get(keyword), base.get(keyword)
        if not (isinstance(mine, int | float) and isinstance(theirs, int | float)):
            continue
        if isinstance(mine, bool) or isinstance(theirs, bool):
            continue  # draft-04 boolean exclusiveMinimum/Maximum
        looser = mine < theirs if keyword in _LOWER_BOUNDS else mine > theirs
        if looser:
            problems.append(f"{where}: {keyword} {mine} is looser than the base {keyword} {theirs}")


def _allowed_values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return enum if isinstance(enum, list) else None


def _key(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
