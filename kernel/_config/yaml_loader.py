"""Safe YAML loading that refuses duplicate keys at any depth (K-4.2).

``yaml.safe_load`` silently keeps the last of two equal keys, which hides typos in hand-written configs.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from yaml.nodes import CollectionNode, MappingNode, ScalarNode

from .errors import ConfigError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate keys instead of overwriting them."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._duplicates: list[tuple[int, int, str]] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        self._check_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def _check_duplicates(self, node: MappingNode) -> None:
        # Checked before merge keys (``<<``) are flattened: an explicit key may override a merged one.
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                column = key_node.start_mark.column + 1
                message = (
                    f"duplicate key '{key}' at line {line}, column {column} (first at line {first_line[key]})"
                )
                self._duplicates.append((line, column, message))
            else:
                first_line[key] = line

    @property
    def duplicates(self) -> list[str]:
        # Outer mappings are checked before their children are built: report in reading order instead.
        return [message for _, _, message in sorted(self._duplicates)]


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"invalid YAML: {problem}"


def _type_name(value: Any) -> str:
    return {list: "list", str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def load_yaml(text: str) -> dict[str, Any]:
    """Parse one YAML document whose root is a mapping; an empty document is ``{}``."""
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(_describe_yaml_error(exc)) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(loader.duplicates)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"the config root must be a mapping, got a {_type_name(data)}")
    return data


def read_yaml_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and parse a config file; every failure is a ``ConfigError`` naming the file."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"config file '{os.fspath(path)}' not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file '{os.fspath(path)}': {exc}") from None
    return load_yaml(text)


def parse_flow_value(text: str) -> Any:
    """Parse one YAML flow value: ``true``, ``8080``, ``[a, b]``, ``'text'`` (block style is an error)."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if isinstance(node, CollectionNode) and not node.flow_style:
            raise ConfigError("expected one YAML flow value, e.g. true, 8080, [a, b] or 'text'")
        value = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(_describe_yaml_error(exc)) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(loader.duplicates)
    return value
