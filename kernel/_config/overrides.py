"""``FABRIKIT__A__B=value`` environment overrides (K-4.5)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, PathPart, format_path
from .yaml_loader import parse_flow_value

PREFIX = "FABRIKIT__"
# Keys directly under these sections are module/plugin names, which are kebab-case.
_NAME_SECTIONS = frozenset({"modules", "plugins"})


def _norm(key: str) -> str:
    return key.lower().replace("-", "_")


def _override_vars(env: Mapping[str, str]) -> list[tuple[str, str]]:
    # Sorted so that a deeper override (FABRIKIT__A__B) applies after a shallower one (FABRIKIT__A).
    found = [(k, v) for k, v in env.items() if k.startswith(PREFIX)]
    return sorted(found, key=lambda kv: (kv[0].count("__"), kv[0]))


def apply_overrides(
    raw: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[tuple[PathPart, ...]]]:
    """Return a copy of ``raw`` with every ``FABRIKIT__`` variable applied, and the paths that were set.

    Raises ``ConfigError`` listing every variable that could not be applied.
    """
    tree: dict[str, Any] = copy.deepcopy(dict(raw))
    applied: list[tuple[PathPart, ...]] = []
    errors: list[str] = []
    for var, text in _override_vars(env):
        segments = [s.lower() for s in var[len(PREFIX) :].split("__")]
        if not all(segments):
            errors.append(f"{var}: empty key segment (separate keys with a double underscore)")
            continue
        try:
            value = parse_flow_value(text)
        except ConfigError as exc:
            # The value itself may be a secret: describe the problem, never echo the input.
            errors.extend(f"{var}: {m}" for m in exc.messages)
            continue
        try:
            applied.append(_set_path(tree, segments, value))
        except ConfigError as exc:
            errors.extend(f"{var}: {m}" for m in exc.messages)
    if errors:
        raise ConfigError(errors)
    return tree, applied


def _set_path(tree: dict[str, Any], segments: list[str], value: Any) -> tuple[PathPart, ...]:
    node: Any = tree
    path: list[PathPart] = []
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(node, list):
            if not segment.isdigit() or int(segment) >= len(node):
                raise ConfigError(
                    f"{format_path(path)} is a list of {len(node)} items; '{segment}' is not a valid index"
                )
            key: Any = int(segment)
        elif isinstance(node, dict):
            key = _match_key(node, segment, path)
        else:
            raise ConfigError(f"cannot set '{segment}' inside {format_path(path)}: it is not a mapping")
        path.append(key if isinstance(key, int) else str(key))
        if last:
            node[key] = value
            break
        child = node[key] if (isinstance(node, list) or key in node) else None
        if child is None:
            child = {}
            node[key] = child
        node = child
    return tuple(path)


def _match_key(node: dict[Any, Any], segment: str, path: list[PathPart]) -> Any:
    wanted = _norm(segment)
    for existing in node:
        if _norm(str(existing)) == wanted:
            return existing
    if len(path) == 1 and path[0] in _NAME_SECTIONS:
        return segment.replace("_", "-")
    return segment
