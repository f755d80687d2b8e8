"""``${NAME}`` / ``${NAME:-default}`` expansion of every string value (K-4.4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, PathPart, format_path

# One pass, left to right: an escape, a well-formed reference, or a malformed one (reported, never guessed).
_TOKEN_RE = re.compile(
    r"(?P<escape>\$\$\{)"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\$\{[^}]*\}?)"
)

ExpansionIssue = tuple[tuple[PathPart, ...], str]


def expand_string(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand one string; returns the result and the problems found (without a path)."""
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group("escape"):
            return "${"
        name = match.group("name")
        if name is None:
            problems.append(
                f"invalid variable reference '{match.group('bad')}' "
                "(use ${NAME} or ${NAME:-default}; write $${ for a literal ${)"
            )
            return match.group(0)
        if name in env:
            return env[name]  # set-but-empty stays empty: ':-' only covers unset variables
        default = match.group("default")
        if default is None:
            problems.append(f"environment variable {name} is not set")
            return ""
        return default

    if "${" not in text:
        return text, problems
    return _TOKEN_RE.sub(replace, text), problems


def expand_tree(
    value: Any, env: Mapping[str, str], path: tuple[PathPart, ...] = ()
) -> tuple[Any, list[ExpansionIssue]]:
    """Expand every string value (never keys) of a YAML tree; returns a new tree and every issue found."""
    issues: list[ExpansionIssue] = []

    def walk(node: Any, at: tuple[PathPart, ...]) -> Any:
        if isinstance(node, str):
            result, problems = expand_string(node, env)
            issues.extend((at, p) for p in problems)
            return result
        if isinstance(node, Mapping):
            return {key: walk(item, (*at, str(key))) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item, (*at, i)) for i, item in enumerate(node)]
        return node

    return walk(value, path), issues


def expand_env(value: Any, env: Mapping[str, str]) -> Any:
    """Expand a tree or raise ``ConfigError`` listing every unset variable with its key path."""
    result, issues = expand_tree(value, env)
    if issues:
        raise ConfigError(format_issues(issues))
    return result


def format_issues(issues: list[ExpansionIssue]) -> list[str]:
    return [f"{format_path(at)}: {message}" if at else message for at, message in issues]
