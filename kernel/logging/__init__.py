"""Structured logging (K-17): one redacting structlog + stdlib pipeline, JSON or console."""

from ._configure import (
    THIRD_PARTY_LOGGERS,
    LogFormat,
    configure_logging,
    configure_logging_from_config,
    reset_logging,
)
from ._context import (
    bind_context,
    bound_context,
    clear_context,
    context_setter,
    get_context,
    get_logger,
    unbind_context,
)
from ._fast import BatchedLogger, FastLogger, get_batched_logger, get_fast_logger
from ._processors import json_renderer, redact_event

__all__ = [
    "THIRD_PARTY_LOGGERS",
    "BatchedLogger",
    "FastLogger",
    "LogFormat",
    "bind_context",
    "bound_context",
    "clear_context",
    "configure_logging",
    "configure_logging_from_config",
    "context_setter",
    "get_batched_logger",
    "get_context",
    "get_fast_logger",
    "get_logger",
    "json_renderer",
    "redact_event",
    "reset_logging",
    "unbind_context",
]
