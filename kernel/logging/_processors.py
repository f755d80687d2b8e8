"""structlog processors: redaction (K-17.2) and the msgspec JSON renderer."""

from __future__ import annotations

import contextvars
import json
from collections.abc import MutableMapping
from typing import Any

import msgspec
import structlog

from fabrikit.kernel.security import REDACTED, Secret

from .._config.redact import SENSITIVE_KEYS, is_sensitive_key, redact, redact_string

_VARS: dict[str, Any] | None = getattr(structlog.contextvars, "_CONTEXT_VARS", None)
_PREFIX_LEN = len(getattr(structlog.contextvars, "STRUCTLOG_KEY_PREFIX", "structlog_"))


def merge_contextvars(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``structlog.contextvars.merge_contextvars``, reading structlog's own variables instead of copying and
    scanning the whole context (every library's variables), which cost more than the rest of the line."""
    if _VARS is None:  # a structlog without the registry: its own (slower) processor
        return structlog.contextvars.merge_contextvars(logger, method, event_dict)
    for name, var in tuple(_VARS.items()):
        value = var.get()
        if value is not Ellipsis:  # structlog's "unbound" marker
            event_dict.setdefault(name[_PREFIX_LEN:], value)
    return event_dict


ContextKeys = list[tuple[str, contextvars.ContextVar[Any]]]


def context_keys() -> ContextKeys | None:
    """Every key structlog's context may hold, with its variable (taken once for many lines); None when this
    structlog keeps no registry."""
    if _VARS is None:
        return None
    return [(name[_PREFIX_LEN:], var) for name, var in tuple(_VARS.items())]


def merge_context_of(
    context: contextvars.Context, event_dict: MutableMapping[str, Any], keys: ContextKeys | None
) -> None:
    """``merge_contextvars`` for the given context instead of the current one (lines logged earlier)."""
    if keys is None:
        context.run(structlog.contextvars.merge_contextvars, None, "", event_dict)
        return
    for key, var in keys:
        value = context.get(var, Ellipsis)
        if value is not Ellipsis and key not in event_dict:
            event_dict[key] = value


# Keys structlog and ProcessorFormatter own; their values are never user data.
_STRUCTURAL_KEYS = frozenset({"timestamp", "level", "logger", "_record", "_from_structlog", "exc_info"})


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Render ``Secret``s, credential-like keys (``authorization``, ``bearer_token``, K-4.8) and credentials
    embedded in text as ``[REDACTED]``, nested mappings and sequences included."""
    # Runs for every line: exact-type tests first, so numbers cost one test and plain text a few substring
    # tests (the literals `redact_string`'s patterns need, as in `may_hold_credentials`, inlined).
    sensitive = SENSITIVE_KEYS
    for key, value in event_dict.items():  # values are replaced in place; the key set never changes
        cls = type(value)
        if cls is str:  # most values: the cheapest route first
            if key in _STRUCTURAL_KEYS:
                continue
            if key == "event" or not (sensitive[key] if type(key) is str else is_sensitive_key(key)):
                if "earer" in value or "Basic" in value or "://" in value or "=" in value:
                    event_dict[key] = redact_string(value)
            else:
                event_dict[key] = REDACTED
            continue
        if value is None or cls is int or cls is float or cls is bool or key in _STRUCTURAL_KEYS:
            continue  # numbers are never secrets, whatever the key (`max_tokens: 4096`)
        if key == "event":
            event_dict[key] = REDACTED if isinstance(value, Secret) else _text(value)
        elif is_sensitive_key(key):
            if not isinstance(value, bool | int | float):
                event_dict[key] = REDACTED
        else:
            event_dict[key] = redact(value)
    return event_dict


def _text(value: Any) -> Any:
    return redact_string(value) if isinstance(value, str) else redact(value)


def _fallback(obj: Any) -> Any:
    if isinstance(obj, Secret):
        return REDACTED
    return str(obj)


_ENCODER = msgspec.json.Encoder(enc_hook=_fallback)


def encode_json(event_dict: Any) -> bytes:
    """The JSON line of an event, as bytes (the renderer's work without its wrappers)."""
    try:
        return _ENCODER.encode(event_dict)
    except (TypeError, ValueError, OverflowError):
        # e.g. a dict with non-string keys somewhere in the event: the stdlib encoder is more forgiving.
        return json.dumps(event_dict, default=_fallback).encode()


def _serialize(event_dict: Any, **_: Any) -> str:
    return encode_json(event_dict).decode()


def json_renderer() -> structlog.processors.JSONRenderer:
    # msgspec's `encode` refuses JSONRenderer's extra keyword arguments, hence the wrapper (spec §20).
    return structlog.processors.JSONRenderer(serializer=_serialize)
