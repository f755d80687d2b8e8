"""Directive parsing (M-4.1, M-4.2). Pure: no I/O, no aiohttp.

A directive list is ``name,name=value,…``; in a user message it is wrapped as ``[[mock:…]]``. Parsing turns a
list into a dict of field updates for :class:`Directives`; layers are applied lowest precedence first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

MAX_LOREM = 1_000_000
MAX_DELAY_MS = 3_600_000.0
SLOW_LATENCY_MS = 100.0
BLOCK_RE = re.compile(r"\[\[mock:(.*?)\]\]", re.DOTALL)
# A block takes the spaces before it along, so "a [[mock:x]] b" echoes as "a b".
STRIP_RE = re.compile(r"[ \t]*\[\[mock:.*?\]\]", re.DOTALL)
TOOL_NAMES = frozenset({"file_search", "web_search", "code_interpreter", "function"})
TOOL_ALIASES = {"web_search_preview": "web_search"}
FAIL_EVENTS = frozenset({"failed", "error", "error_nested"})
INCOMPLETE_REASONS = frozenset({"max_output_tokens", "content_filter"})
VS_FILE_STATUSES = frozenset({"completed", "failed", "in_progress", "cancelled"})


class DirectiveError(ValueError):
    """A directive name or value the mock does not understand (answered with 400)."""


class ToolCall(msgspec.Struct, frozen=True):
    name: str
    count: int = 1


class Directives(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The effective behaviour of one request. Field names are the directive names."""

    lorem: int | None = None
    latency: float = 0.0
    ttft: float = 0.0
    error: int | None = None
    fail_after: int | None = None
    fail_event: str = "failed"
    drop_after: int | None = None
    stall_after: int | None = None
    hang: bool = False
    tools: tuple[ToolCall, ...] | None = None  # None: auto_tools decides
    citations: bool = True
    incomplete: str | None = None
    usage: tuple[int, ...] | None = None  # (in, out, cached, reasoning)
    no_usage: bool = False
    think: int = 0
    malformed: bool = False
    non_sse: bool = False
    no_done: bool = False
    vs_file_status: str | None = None

    def merged(self, updates: dict[str, Any]) -> Directives:
        return msgspec.structs.replace(self, **updates) if updates else self

    def to_builtins(self) -> dict[str, Any]:
        """The non-default fields, as recorded in M-8.1."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result


def extract_directives(text: str) -> tuple[str, dict[str, Any]]:
    """Strip every ``[[mock:…]]`` block from ``text``; return the cleaned text and the merged updates."""
    updates: dict[str, Any] = {}
    for block in BLOCK_RE.findall(text):
        updates.update(parse_directive_list(block))
    return STRIP_RE.sub("", text).strip(), updates


def parse_directive_list(text: str) -> dict[str, Any]:
    """Parse ``name,name=value,…`` (a bare list or one containing ``[[mock:…]]`` blocks)."""
    if "[[mock:" in text:
        return extract_directives(text)[1]
    updates: dict[str, Any] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        parser = _PARSERS.get(name)
        if parser is None:
            raise DirectiveError(f"unknown mock directive {name!r}")
        updates.update(parser(name, value.strip() if sep else None))
    return updates


def _flag(field: str, on: bool = True) -> Callable[[str, str | None], dict[str, Any]]:
    def parse(name: str, value: str | None) -> dict[str, Any]:
        _no_value(name, value)
        return {field: on}

    return parse


def _no_value(name: str, value: str | None) -> None:
    if value is not None:
        raise DirectiveError(f"mock directive {name!r} takes no value")


def _need(name: str, value: str | None) -> str:
    if not value:
        raise DirectiveError(f"mock directive {name!r} needs a value ({name}=…)")
    return value


def _int(name: str, value: str | None, low: int, high: int) -> int:
    text = _need(name, value)
    try:
        number = int(text)
    except ValueError:
        raise DirectiveError(f"mock directive {name}={text!r}: expected an integer") from None
    if not low <= number <= high:
        raise DirectiveError(f"mock directive {name}={number}: must be within {low}..{high}")
    return number


def _ms(name: str, value: str | None) -> dict[str, Any]:
    text = _need(name, value)
    try:
        number = float(text)
    except ValueError:
        raise DirectiveError(f"mock directive {name}={text!r}: expected milliseconds") from None
    if not 0 <= number <= MAX_DELAY_MS:
        raise DirectiveError(f"mock directive {name}={text}: must be within 0..{MAX_DELAY_MS:.0f} ms")
    return {name: number}


def _choice(field: str, choices: frozenset[str]) -> Callable[[str, str | None], dict[str, Any]]:
    def parse(name: str, value: str | None) -> dict[str, Any]:
        text = _need(name, value)
        if text not in choices:
            raise DirectiveError(f"mock directive {name}={text!r}: expected one of {sorted(choices)}")
        return {field: text}

    return parse


def _count(field: str, high: int) -> Callable[[str, str | None], dict[str, Any]]:
    def parse(name: str, value: str | None) -> dict[str, Any]:
        return {field: _int(name, value, 0, high)}

    return parse


def _echo(name: str, value: str | None) -> dict[str, Any]:
    _no_value(name, value)
    return {"lorem": None}


def _slow(name: str, value: str | None) -> dict[str, Any]:
    _no_value(name, value)
    return {"latency": SLOW_LATENCY_MS}


def _error(name: str, value: str | None) -> dict[str, Any]:
    return {"error": _int(name, value, 400, 599)}


def _tools(name: str, value: str | None) -> dict[str, Any]:
    text = _need(name, value)
    if text == "none":
        return {"tools": ()}
    calls = []
    for entry in text.split("+"):
        tool, sep, count = entry.strip().partition(":")
        tool = TOOL_ALIASES.get(tool, tool)
        if tool not in TOOL_NAMES:
            raise DirectiveError(
                f"mock directive tools: unknown tool {tool!r}; expected {sorted(TOOL_NAMES)}"
            )
        calls.append(ToolCall(tool, _int(f"tools={tool}:", count, 1, 100) if sep else 1))
    return {"tools": tuple(calls)}


def _citations(name: str, value: str | None) -> dict[str, Any]:
    text = _need(name, value)
    if text not in ("none", "all"):
        raise DirectiveError(f"mock directive citations={text!r}: expected 'none' or 'all'")
    return {"citations": text == "all"}


def _incomplete(name: str, value: str | None) -> dict[str, Any]:
    reason = value or "max_output_tokens"
    if reason not in INCOMPLETE_REASONS:
        raise DirectiveError(
            f"mock directive incomplete={reason!r}: expected one of {sorted(INCOMPLETE_REASONS)}"
        )
    return {"incomplete": reason}


def _usage(name: str, value: str | None) -> dict[str, Any]:
    text = _need(name, value)
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise DirectiveError(f"mock directive usage={text!r}: expected IN:OUT[:CACHED[:REASONING]]")
    numbers = [_int("usage", part, 0, 10**12) for part in parts]
    return {"usage": tuple(numbers + [0] * (4 - len(numbers)))}


_PARSERS: dict[str, Callable[[str, str | None], dict[str, Any]]] = {
    "echo": _echo,
    "lorem": _count("lorem", MAX_LOREM),
    "latency": _ms,
    "slow": _slow,
    "ttft": _ms,
    "error": _error,
    "fail_after": _count("fail_after", 10**9),
    "fail_event": _choice("fail_event", FAIL_EVENTS),
    "drop_after": _count("drop_after", 10**9),
    "stall_after": _count("stall_after", 10**9),
    "hang": _flag("hang"),
    "tools": _tools,
    "citations": _citations,
    "incomplete": _incomplete,
    "usage": _usage,
    "no_usage": _flag("no_usage"),
    "think": _count("think", MAX_LOREM),
    "malformed": _flag("malformed"),
    "non_sse": _flag("non_sse"),
    "no_done": _flag("no_done"),
    "vs_file_status": _choice("vs_file_status", VS_FILE_STATUSES),
}

DIRECTIVE_NAMES = frozenset(_PARSERS)
