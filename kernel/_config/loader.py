"""Config layers (K-4.1): file or default profile → ``${VAR}`` expansion → ``FABRIKIT__`` overrides →
validated model."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, PathPart, did_you_mean, format_path
from .expand import expand_tree, format_issues
from .model import (
    TOP_LEVEL_KEYS,
    AppConfig,
    DatabaseConfig,
    LoggingConfig,
    ModuleEntry,
    PluginEntry,
    RuntimeConfig,
    ServerConfig,
)
from .overrides import apply_overrides
from .validate import convert_config
from .yaml_loader import read_yaml_file

CONFIG_ENV_VAR = "FABRIKIT_CONFIG"
DEFAULT_PROFILE_SOURCE = "<default profile>"

_SECTIONS: dict[str, type[Any]] = {
    "server": ServerConfig,
    "runtime": RuntimeConfig,
    "database": DatabaseConfig,
    "logging": LoggingConfig,
}
_ENTRY_TYPES: dict[str, type[Any]] = {"modules": ModuleEntry, "plugins": PluginEntry}


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] = os.environ,
    default_profile: Mapping[str, Any] | None = None,
) -> AppConfig:
    """Load, expand, override and validate the configuration; raises ``ConfigError`` listing every problem.

    The file is ``path``, else ``$FABRIKIT_CONFIG``, else ``default_profile`` (else empty = all defaults).
    """
    raw, source = _read_source(path, env, default_profile)
    expanded, issues = expand_tree(raw, env)
    errors: list[str] = []
    try:
        effective, applied = apply_overrides(expanded, env)
    except ConfigError as exc:
        effective, applied = expanded, []
        errors += exc.messages
    # An override replaces the value that held an unset variable, so that variable no longer matters.
    issues = [(at, msg) for at, msg in issues if not any(_is_prefix(done, at) for done in applied)]
    errors = format_issues(issues) + errors
    try:
        config = build_config(effective, source=source)
    except ConfigError as exc:
        # A value whose variable was unset would also fail validation: report the cause, not the symptom.
        blamed = [format_path(at) for at, _ in issues]
        errors += [m for m in exc.messages if not any(_under(m, p) for p in blamed)]
        config = None
    if errors or config is None:
        raise ConfigError(errors)
    return config


def _read_source(
    path: str | os.PathLike[str] | None, env: Mapping[str, str], default_profile: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str]:
    if path is not None:
        return read_yaml_file(path), os.fspath(path)
    from_env = env.get(CONFIG_ENV_VAR, "")
    if from_env:
        return read_yaml_file(from_env), from_env
    if default_profile is not None:
        return copy.deepcopy(dict(default_profile)), DEFAULT_PROFILE_SOURCE
    return {}, "<defaults>"


def _is_prefix(prefix: tuple[PathPart, ...], path: tuple[PathPart, ...]) -> bool:
    return path[: len(prefix)] == prefix


def _under(message: str, path: str) -> bool:
    return any(message.startswith(path + sep) for sep in (":", ".", "["))


def build_config(raw: Mapping[str, Any], *, source: str = "<defaults>") -> AppConfig:
    """Validate an already expanded and overridden mapping into ``AppConfig``, reporting every problem."""
    errors: list[str] = []
    sections: dict[str, Any] = {}
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            errors.append(f"unknown top-level key '{key}'{did_you_mean(str(key), TOP_LEVEL_KEYS)}")
    for key, type_ in _SECTIONS.items():
        value = raw.get(key)
        try:
            sections[key] = convert_config({} if value is None else value, type_, key)
        except ConfigError as exc:
            errors += exc.messages
    for key, type_ in _ENTRY_TYPES.items():
        try:
            sections[key] = _convert_entries(raw.get(key), type_, key)
        except ConfigError as exc:
            errors += exc.messages
    if errors:
        raise ConfigError(errors)
    return AppConfig(**sections, raw=copy.deepcopy(dict(raw)), source=source)


def _convert_entries(value: Any, type_: type[Any], section: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{section}: Expected a mapping of names to entries, got {type(value).__name__}")
    entries: dict[str, Any] = {}
    errors: list[str] = []
    for name, entry in value.items():
        where = f"{section}.{name}"
        if not isinstance(name, str):
            errors.append(f"{where}: the name must be a string")
            continue
        if entry is None:
            entry = {}  # a bare `name:` line enables the module/plugin with its defaults
        if isinstance(entry, Mapping) and entry.get("config", {}) is None:
            entry = {k: v for k, v in entry.items() if k != "config"}
        try:
            entries[name] = convert_config(entry, type_, where)
        except ConfigError as exc:
            errors += exc.messages
    if errors:
        raise ConfigError(errors)
    return entries
