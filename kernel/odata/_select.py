"""``$select``: parse the field list and project serialized items (K-12.5)."""

from __future__ import annotations

from typing import Any

from ._errors import InvalidSelect

MAX_SELECT_LENGTH = 2048
MAX_SELECT_FIELDS = 100

_WHOLE: dict[str, Any] = {}  # marks "keep this value entirely" in the selection tree


def parse_select(raw: str) -> tuple[str, ...]:
    """Comma list → trimmed lowercase names (dotted paths allowed). Raises ``InvalidSelect`` (400) when empty,
    over 2048 chars or 100 names, a name or path segment is empty, or a name repeats."""
    if len(raw) > MAX_SELECT_LENGTH:
        raise InvalidSelect(f"$select too long: {len(raw)} characters, at most {MAX_SELECT_LENGTH} allowed")
    if not raw.strip():
        raise InvalidSelect("$select is empty")
    names = [part.strip().lower() for part in raw.split(",")]
    if len(names) > MAX_SELECT_FIELDS:
        raise InvalidSelect(f"$select has {len(names)} fields, at most {MAX_SELECT_FIELDS} allowed")
    seen: set[str] = set()
    for name in names:
        if not name or any(not segment.strip() for segment in name.split(".")):
            raise InvalidSelect(f"$select contains an empty field name in {raw[:64]!r}")
        if name in seen:
            raise InvalidSelect(f"$select names {name!r} twice")
        seen.add(name)
    return tuple(names)


def apply_select(item: Any, fields: tuple[str, ...] | list[str]) -> Any:
    """Keep only the selected members of a serialized item (a dict, or a list of them).

    Keys match case-insensitively and keep their original spelling and order; ``a.b`` keeps ``b`` inside ``a``
    (per element when ``a`` is a list); selecting ``a`` keeps all of ``a`` even if ``a.b`` is also selected;
    unknown names are ignored.
    """
    return _project(item, _tree(fields))


def _tree(fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for name in fields:
        node = root
        segments = [segment.strip().lower() for segment in name.split(".")]
        for segment in segments[:-1]:
            child = node.get(segment)
            if child is _WHOLE:
                break
            node = node.setdefault(segment, {})
        else:
            node[segments[-1]] = _WHOLE
    return root


def _project(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, member in value.items():
            sub = tree.get(key.lower()) if isinstance(key, str) else None
            if sub is _WHOLE:
                result[key] = member
            elif sub is not None:
                result[key] = _project(member, sub)
        return result
    if isinstance(value, list | tuple):
        return [_project(element, tree) for element in value]
    return value
