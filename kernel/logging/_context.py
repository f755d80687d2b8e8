"""Loggers and request-scoped context (K-17.1)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog


def get_logger(name: str, **bound: Any) -> Any:
    """A structlog logger named ``name`` (the ``logger`` field), with ``bound`` key/values on every line.

    The logger resolves the configuration on each call, so ``configure_logging`` and ``capture_logs`` apply to
    loggers created earlier (e.g. at import time).
    """
    return structlog.stdlib.get_logger(name, **bound)


def bind_context(**kv: Any) -> None:
    """Add key/values to every line logged from this task (and tasks it creates afterwards)."""
    structlog.contextvars.bind_contextvars(**kv)


def unbind_context(*keys: str) -> None:
    structlog.contextvars.unbind_contextvars(*keys)


def clear_context() -> None:
    """Drop every context key/value of this task (request middleware clears, then binds)."""
    structlog.contextvars.clear_contextvars()


def get_context() -> dict[str, Any]:
    return dict(structlog.contextvars.get_contextvars())


@contextmanager
def bound_context(**kv: Any) -> Iterator[None]:
    """Bind key/values for the duration of a ``with`` block, restoring the previous values afterwards."""
    with structlog.contextvars.bound_contextvars(**kv):
        yield


def context_setter(*keys: str) -> Callable[..., None]:
    """``bind_context`` for a fixed set of keys, for a hot path: ``set_ids = context_setter("request_id",
    "trace_id")`` once, then ``set_ids(rid, tid)`` per request. It sets structlog's own context variables
    directly instead of looking each key up by name on every call."""
    registry: dict[str, contextvars.ContextVar[Any]] | None = getattr(
        structlog.contextvars, "_CONTEXT_VARS", None
    )
    prefix = getattr(structlog.contextvars, "STRUCTLOG_KEY_PREFIX", None)
    if registry is None or prefix is None:  # a structlog without the registry: its public API

        def bind_values(*values: Any) -> None:
            structlog.contextvars.bind_contextvars(**dict(zip(keys, values, strict=True)))

        return bind_values
    # Bound once in a throwaway context: structlog creates and registers the variables, nothing leaks.
    contextvars.Context().run(structlog.contextvars.bind_contextvars, **dict.fromkeys(keys))
    variables = tuple(registry[prefix + key] for key in keys)
    if len(variables) == 2:  # the request ids: unrolled, this runs on every request
        first, second = variables

        def set_two(a: Any, b: Any) -> None:
            first.set(a)
            second.set(b)

        return set_two

    def set_values(*values: Any) -> None:
        for var, value in zip(variables, values, strict=True):
            var.set(value)

    return set_values
