"""``configure_logging`` (K-17): one pipeline for structlog and stdlib loggers."""

from __future__ import annotations

import logging
import logging.handlers
import os
import pathlib
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any, Literal

import structlog

from .._config.model import LOG_LEVELS, LogFileConfig, LoggingConfig
from .._config.types import ByteSize
from . import _fast
from ._processors import encode_json, json_renderer, merge_contextvars, redact_event
from ._stdlib import FastFormatter, RecordLoggerFactory, to_record

LogFormat = Literal["auto", "json", "console"]

# Libraries that may have installed handlers of their own; their records must reach ours instead.
THIRD_PARTY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "aiohttp",
    "asyncpg",
    "piccolo",
    "litestar",
)

_lock = threading.Lock()
_installed_handlers: list[logging.Handler] = []
_leveled_loggers: list[str] = []


def _shared_processors() -> list[Any]:
    return [
        merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event,
        structlog.processors.StackInfoRenderer(),
    ]


def _configure_structlog() -> None:
    # Every structlog line is handed to the stdlib handlers as a record, so format, destination and per-logger
    # levels are decided in one place; `to_record` and `FastFormatter` keep that hand-over cheap.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *_shared_processors(),
            to_record,
        ],
        logger_factory=RecordLoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        context_class=dict,
        # Not cached: loggers created at import time must follow a later configure_logging / capture_logs.
        cache_logger_on_first_use=False,
    )


def _formatter(json_output: bool, colors: bool) -> FastFormatter:
    # ConsoleRenderer formats exceptions itself and warns when format_exc_info ran before it.
    return FastFormatter(
        json_renderer() if json_output else structlog.dev.ConsoleRenderer(colors=colors),
        format_exceptions=json_output,
        json_bytes=encode_json if json_output else None,
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *_shared_processors()],
    )


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    name = level.lower()
    if name not in LOG_LEVELS:
        raise ValueError(f"unknown log level '{level}'; expected one of {', '.join(LOG_LEVELS)}")
    return logging.getLevelNamesMapping()[name.upper()]


def _file_config(file: LogFileConfig | str | os.PathLike[str] | Mapping[str, Any]) -> LogFileConfig:
    if isinstance(file, LogFileConfig):
        return file
    if isinstance(file, Mapping):
        return LogFileConfig(
            path=pathlib.Path(file["path"]),
            max_bytes=ByteSize.parse(file.get("max_bytes", 10 * 1024 * 1024)),
            backups=int(file.get("backups", 5)),
        )
    return LogFileConfig(path=pathlib.Path(file))


_PARAMETER_ECHOING_LOGGERS = ("aiosqlite", "asyncpg", "piccolo")


def configure_logging(
    level: str | int = "info",
    format: LogFormat = "auto",
    levels: Mapping[str, str | int] | None = None,
    file: LogFileConfig | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Route structlog and stdlib logging through one redacting pipeline.

    ``format``: ``json``, ``console`` or ``auto`` (console when ``stream`` is a TTY). ``levels`` sets the
    level per logger name (``{"fabrikit": "debug", "uvicorn.access": "warning"}``); ``file`` adds a rotating
    JSON file. ``stream`` defaults to ``sys.stderr``. Calling it again replaces what the last call installed.
    """
    if format not in ("auto", "json", "console"):
        raise ValueError(f"unknown log format '{format}'; expected auto, json or console")
    root_level = _level_number(level)
    # Database drivers log statement parameters (message text, secrets) at debug: keep them at INFO unless a
    # `logging.levels` entry asks otherwise.
    per_logger = {name: logging.INFO for name in _PARAMETER_ECHOING_LOGGERS}
    per_logger.update({name: _level_number(value) for name, value in (levels or {}).items()})
    out = stream if stream is not None else sys.stderr
    json_output = format == "json" or (format == "auto" and not _isatty(out))

    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(out)
    console.setFormatter(_formatter(json_output, colors=not json_output and _isatty(out)))
    handlers.append(console)
    if file is not None:
        cfg = _file_config(file)
        cfg.path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            cfg.path, maxBytes=int(cfg.max_bytes), backupCount=cfg.backups, encoding="utf-8", delay=True
        )
        rotating.setFormatter(_formatter(json_output=True, colors=False))
        handlers.append(rotating)

    with _lock:
        _configure_structlog()
        root = logging.getLogger()
        for old in _installed_handlers:
            root.removeHandler(old)
            old.close()
        _installed_handlers[:] = handlers
        for handler in handlers:
            root.addHandler(handler)
        _fast.install(_installed_handlers)
        root.setLevel(root_level)
        for name in _leveled_loggers:
            logging.getLogger(name).setLevel(logging.NOTSET)
        for name in THIRD_PARTY_LOGGERS:
            library = logging.getLogger(name)
            for own in list(library.handlers):
                library.removeHandler(own)
            library.propagate = True
        for name, number in per_logger.items():
            logging.getLogger(name).setLevel(number)
        _leveled_loggers[:] = list(per_logger)


def configure_logging_from_config(
    config: LoggingConfig,
    *,
    stream: IO[str] | None = None,
    format: LogFormat | None = None,
    extra_levels: Mapping[str, str | int] | None = None,
) -> None:
    """``configure_logging`` from the ``logging:`` section; ``format``/``extra_levels`` are the CLI layer."""
    levels: dict[str, str | int] = dict(config.levels)
    levels.update(extra_levels or {})
    configure_logging(
        level=config.level,
        format=format or config.format,
        levels=levels,
        file=config.file,
        stream=stream,
    )


def reset_logging() -> None:
    """Remove what ``configure_logging`` installed (tests)."""
    with _lock:
        root = logging.getLogger()
        for old in _installed_handlers:
            root.removeHandler(old)
            old.close()
        _installed_handlers.clear()
        _fast.uninstall()
        for name in _leveled_loggers:
            logging.getLogger(name).setLevel(logging.NOTSET)
        _leveled_loggers.clear()
        root.setLevel(logging.WARNING)
        structlog.reset_defaults()
