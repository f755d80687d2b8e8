"""Turning raw config into typed structs with every problem reported at once (K-4.6)."""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from .errors import ConfigError, did_you_mean, join_path
from .types import DecHook, InvalidConfigValue, chain_dec_hooks

T = TypeVar("T")

_LOCATION_RE = re.compile(r"^(?P<message>.*?) - at `(?P<location>[^`]*)`$", re.DOTALL)
_KEY_LOCATION_RE = re.compile(r"^(?P<message>.*?) - at `key` in `(?P<location>[^`]*)`$", re.DOTALL)
_EXPECTED_RE = re.compile(r"^Expected `[^`]*`, got `[^`]*`")


def convert_config(raw: Any, type_: type[T], path: str = "", *, dec_hook: DecHook | None = None) -> T:
    """``msgspec.convert(raw, type_, strict=False)`` for config, raising ``ConfigError`` with key paths.

    Every problem is reported (msgspec stops at the first, so a failing struct is re-examined field by field),
    then ``validate()`` runs on every nested struct, children first.
    """
    hook = chain_dec_hooks(dec_hook)
    try:
        value = msgspec.convert(raw, type_, strict=False, dec_hook=hook)
    except msgspec.ValidationError as exc:
        messages = _collect(raw, type_, path, hook) or [_format_validation_error(exc, path)]
        raise ConfigError(messages) from None
    problems = _run_validators(value, path)
    if problems:
        raise ConfigError(problems)
    return value


def _format_validation_error(exc: msgspec.ValidationError, path: str) -> str:
    text = str(exc)
    key_match = _KEY_LOCATION_RE.match(text)
    match = key_match or _LOCATION_RE.match(text)
    message, location = (match.group("message"), match.group("location")) if match else (text, "$")
    if key_match:
        message = f"invalid key: {_clean(message)}"
    where = join_path(path, location[1:]) if location.startswith("$") else path
    message = _clean(message)
    return f"{where}: {message}" if where else message


def _clean(message: str) -> str:
    # "Expected `int`, got `str`" reads better without markup; other names stay visibly quoted.
    if _EXPECTED_RE.match(message):
        return message.replace("`", "")
    return message.replace("`", "'")


def _unknown_key_message(where: str, key: Any, known: list[str]) -> str:
    text = f"unknown key '{key}'{did_you_mean(str(key), known)}"
    return f"{where}: {text}" if where else text


def _collect(raw: Any, tp: Any, path: str, hook: DecHook) -> list[str]:
    """Every problem converting ``raw`` to ``tp``; ``[]`` when it converts (or cannot be broken down)."""
    try:
        msgspec.convert(raw, tp, strict=False, dec_hook=hook)
        return []
    except msgspec.ValidationError as exc:
        return _descend(raw, tp, path, hook) or [_format_validation_error(exc, path)]


def _descend(raw: Any, tp: Any, path: str, hook: DecHook) -> list[str]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and raw is not None:
        members = [a for a in args if a is not type(None)]
        return _descend(raw, members[0], path, hook) if len(members) == 1 else []
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(raw, Mapping):
        return _descend_struct(raw, tp, path, hook)
    if origin is dict and isinstance(raw, Mapping) and len(args) == 2:
        out: list[str] = []
        for key, item in raw.items():
            out += _collect(item, args[1], join_path(path, str(key)), hook)
        return out
    if origin in (list, tuple, set, frozenset) and isinstance(raw, list):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return []
        out = []
        for i, item in enumerate(raw):
            out += _collect(item, args[0], f"{path}[{i}]", hook)
        return out
    return []


def _descend_struct(raw: Mapping[str, Any], tp: type[msgspec.Struct], path: str, hook: DecHook) -> list[str]:
    fields = _fields_by_name(tp)
    out: list[str] = []
    if tp.__struct_config__.forbid_unknown_fields:
        out += [_unknown_key_message(path, key, list(fields)) for key in raw if key not in fields]
    for name, info in fields.items():
        if name in raw:
            out += _collect(raw[name], info.type, join_path(path, name), hook)
        elif info.required:
            out.append(f"{path}: missing required key '{name}'" if path else f"missing required key '{name}'")
    return out


def _run_validators(value: Any, path: str) -> list[str]:
    problems: list[str] = []

    def walk(node: Any, at: str) -> None:
        if isinstance(node, msgspec.Struct):
            for info in _struct_fields(type(node)):
                walk(getattr(node, info.name), join_path(at, info.encode_name))
            validate = getattr(node, "validate", None)
            if callable(validate):
                try:
                    validate()
                except ValueError as exc:
                    problems.append(_validator_message(exc, at))
                except ExceptionGroup as group:
                    matched, rest = group.split(ValueError)
                    if rest is not None:
                        raise
                    problems.extend(_validator_message(e, at) for e in _leaves(matched))
        elif isinstance(node, dict):
            for key, item in node.items():
                walk(item, join_path(at, str(key)))
        elif isinstance(node, list | tuple):
            for i, item in enumerate(node):
                walk(item, f"{at}[{i}]")

    walk(value, path)
    return problems


def _validator_message(exc: ValueError, at: str) -> str:
    if isinstance(exc, InvalidConfigValue):
        return f"{join_path(at, exc.field)}: {exc.message}"
    return f"{at}: {exc}" if at else str(exc)


def _leaves(group: BaseExceptionGroup[Any] | None) -> list[ValueError]:
    if group is None:
        return []
    out: list[ValueError] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out += _leaves(exc)
        elif isinstance(exc, ValueError):
            out.append(exc)
    return out


@functools.cache
def _struct_fields(tp: type) -> tuple[msgspec.structs.FieldInfo, ...]:
    return msgspec.structs.fields(tp)


@functools.cache
def _fields_by_name(tp: type) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.encode_name: f for f in _struct_fields(tp)}
