"""Route scope rules: globs on concrete paths, first match decides (P-6.7)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CompiledRule:
    pattern: re.Pattern[str]
    method: str | None
    required_scopes: tuple[str, ...]
    source: str


def _glob_to_regex(glob: str) -> re.Pattern[str]:
    if not glob.startswith("/"):
        raise ValueError(f"route rule path '{glob}' must start with '/'")
    parts = glob.strip("/").split("/") if glob != "/" else []
    out = []
    for part in parts:
        if part == "**":
            out.append("(?:/[^/]+)*")
            continue
        if "**" in part:
            raise ValueError(f"route rule path '{glob}': '**' must be a whole segment")
        if "[" in part or "]" in part:
            raise ValueError(f"route rule path '{glob}': character classes are not supported")
        seg = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in part)
        out.append("/" + seg)
    return re.compile("^" + "".join(out) + "/?$", re.IGNORECASE)


def compile_rules(rules: Sequence[tuple[str, str | None, Sequence[str]]]) -> list[CompiledRule]:
    compiled = []
    for path, method, scopes in rules:
        if not scopes:
            raise ValueError(f"route rule '{path}' needs at least one required scope")
        compiled.append(
            CompiledRule(_glob_to_regex(path), method.upper() if method else None, tuple(scopes), path)
        )
    return compiled


def match_rule(rules: Sequence[CompiledRule], method: str, path: str) -> CompiledRule | None:
    for rule in rules:
        if rule.method and rule.method != method.upper():
            continue
        if rule.pattern.match(path):
            return rule
    return None


def scopes_satisfy(token_scopes: Sequence[str], required: Sequence[str]) -> bool:
    return "*" in token_scopes or any(s in token_scopes for s in required)
