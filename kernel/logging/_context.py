"""Loggers and request-scoped context (K-17.1)."""

from __future__ import annotations

from collections.abc import Iterator
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
