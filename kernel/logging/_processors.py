"""structlog processors: redaction (K-17.2) and the msgspec JSON renderer."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import msgspec
import structlog

from fabrikit.kernel.security import REDACTED, Secret

from .._config.redact import is_sensitive_key, redact, redact_string

# Keys structlog and ProcessorFormatter own; their values are never user data.
_STRUCTURAL_KEYS = frozenset({"timestamp", "level", "logger", "_record", "_from_structlog", "exc_info"})


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Render ``Secret``s, credential-like keys (``authorization``, ``bearer_token``, K-4.8) and credentials
    embedded in text as ``[REDACTED]``, nested mappings and sequences included."""
    # Runs for every line: exact-type checks first, so the common values (numbers, plain text) cost one test.
    for key, value in event_dict.items():  # values are replaced in place; the key set never changes
        if key in _STRUCTURAL_KEYS:
            continue
        cls = type(value)
        if value is None or cls is int or cls is float or cls is bool:
            continue  # never a secret, whatever the key (`max_tokens: 4096`)
        if key == "event":
            event_dict[key] = REDACTED if isinstance(value, Secret) else _text(value)
        elif is_sensitive_key(key):
            if not isinstance(value, bool | int | float):
                event_dict[key] = REDACTED
        elif cls is str:
            event_dict[key] = redact_string(value)
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


def _serialize(event_dict: Any, **_: Any) -> str:
    try:
        return _ENCODER.encode(event_dict).decode()
    except (TypeError, ValueError, OverflowError):
        # e.g. a dict with non-string keys somewhere in the event: the stdlib encoder is more forgiving.
        return json.dumps(event_dict, default=_fallback)


def json_renderer() -> structlog.processors.JSONRenderer:
    # msgspec's `encode` refuses JSONRenderer's extra keyword arguments, hence the wrapper (spec §20).
    return structlog.processors.JSONRenderer(serializer=_serialize)
