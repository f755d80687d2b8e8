"""The hand-over from structlog to the stdlib handlers, built for one record and one rendering per line.

structlog's stock route (``wrap_for_formatter`` → ``Logger.info`` → ``ProcessorFormatter``) walks the stack for
the caller, builds a ``LogRecord``, then copies it inside the formatter and renders through ``logging.Formatter``:
about half the cost of a line. Here the last processor builds the record itself and hands it to the stdlib
logger's ``handle`` (its level, filters, propagation and every handler still apply, pytest's included), and
``FastFormatter`` renders the already processed event dict directly. Records from stdlib loggers keep going
through ``ProcessorFormatter`` unchanged, so both kinds share format and redaction (K-17).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
# Marks a record made here; its ``msg`` is the processed, redacted event dict.
EVENT_ATTR = "_fabrikit_event"


class RecordLogger:
    """What structlog wraps: a stdlib logger whose log methods take a finished ``LogRecord``.

    Everything else (``name``, ``isEnabledFor``, ``setLevel``, ``handlers``, …) is the stdlib logger's, so
    ``structlog.stdlib.BoundLogger`` and the stdlib processors work on it unchanged.
    """

    __slots__ = ("_stdlib", "name")

    def __init__(self, stdlib: logging.Logger) -> None:
        self._stdlib = stdlib
        self.name = stdlib.name

    def isEnabledFor(self, level: int) -> bool:
        return self._stdlib.isEnabledFor(level)

    def _handle(self, record: logging.LogRecord) -> None:
        self._stdlib.handle(record)

    debug = info = warning = warn = error = exception = critical = fatal = msg = _handle

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stdlib, name)

    def __repr__(self) -> str:
        return f"<RecordLogger {self.name!r}>"


class RecordLoggerFactory:
    """structlog ``logger_factory``: the ``RecordLogger`` of ``logging.getLogger(name)``, one per name."""

    def __init__(self) -> None:
        self._stdlib_factory = structlog.stdlib.LoggerFactory()
        self._by_name: dict[str, RecordLogger] = {}

    def __call__(self, *args: Any) -> RecordLogger:
        if args and type(args[0]) is str:
            found = self._by_name.get(args[0])
            if found is None:
                found = self._by_name[args[0]] = RecordLogger(logging.getLogger(args[0]))
            return found
        return RecordLogger(self._stdlib_factory(*args))


def make_record(
    name: str, level: int, method_name: str, event_dict: MutableMapping[str, Any], logger: Any = None
) -> logging.LogRecord:
    """A stdlib record for a processed event dict. It carries the attributes ``ProcessorFormatter`` looks
    for, so a foreign handler that uses one renders it as before; a plain ``logging.Formatter`` sees the
    (already redacted) dict."""
    record = logging.LogRecord(name, level, "(unknown file)", 0, event_dict, (), None)
    record._logger = logger  # type: ignore[attr-defined]
    record._name = method_name  # type: ignore[attr-defined]
    setattr(record, EVENT_ATTR, True)
    return record


def to_record(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> tuple[tuple[logging.LogRecord], dict[str, Any]]:
    """Last structlog processor: the event dict as a stdlib record for ``RecordLogger``."""
    name = logger.name if logger is not None else "root"
    level = _LEVELS.get(method_name, logging.INFO)
    return (make_record(name, level, method_name, event_dict, logger),), {}


class FastFormatter(structlog.stdlib.ProcessorFormatter):
    """``ProcessorFormatter`` that renders records made by ``to_record`` without copying them.

    ``render`` is the final step (JSON or console renderer) applied to a copy of the event dict, after
    ``format_exc_info`` when ``format_exceptions``; other records take ``ProcessorFormatter``'s path.
    """

    def __init__(
        self,
        render: Callable[[Any, str, MutableMapping[str, Any]], str | bytes],
        *,
        format_exceptions: bool,
        json_bytes: Callable[[MutableMapping[str, Any]], bytes] | None = None,
        **kwargs: Any,
    ) -> None:
        final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
        if format_exceptions:
            final.append(structlog.processors.format_exc_info)
        final.append(render)
        super().__init__(processors=final, **kwargs)
        self._render = render
        self._format_exceptions = format_exceptions
        # Set when `render` is the JSON renderer: the same line as bytes, for writers of many lines at once.
        self.json_bytes = json_bytes

    def format(self, record: logging.LogRecord) -> str:
        if not record.__dict__.get(EVENT_ATTR):
            return super().format(record)
        return self.render_event(record._name, record.msg)  # type: ignore[attr-defined, arg-type]

    def render_event(self, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        # Copied: another handler renders the same dict, format_exc_info pops `exc_info`, and the console
        # renderer pops the keys it places itself.
        event_dict = dict(event_dict)
        if self._format_exceptions and "exc_info" in event_dict:
            event_dict = structlog.processors.format_exc_info(None, method_name, event_dict)
        line = self._render(None, method_name, event_dict)
        return line if isinstance(line, str) else line.decode()
