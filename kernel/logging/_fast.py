"""A logger for per-request lines (the access log) that runs the configured pipeline without its plumbing.

A line through structlog and the stdlib costs about fifty Python calls (lazy proxy, bound logger, the
processor chain, a ``LogRecord``, ``Logger.handle``, ``Handler.handle``, ``emit``, ``format``, ``flush``). When
the configuration is exactly the one ``configure_logging`` installed and only its handlers would see the line,
``FastLogger`` applies the same steps in the same order — level filter, context variables, level, logger
name, timestamp, redaction (K-17.2), the handler's renderer — and writes the line itself. In any other case
(``capture_logs``, pytest's handlers, another ``structlog.configure``, a logger with its own handlers or
filters, a rotating file, ``exc_info``/``stack_info``) it hands the call to structlog unchanged.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

from ._processors import context_keys, merge_context_of, merge_contextvars, redact_event
from ._stdlib import FastFormatter, make_record

# Keys whose processors the fast route does not reimplement: those lines take structlog's route.
_SLOW_KEYS = frozenset({"positional_args", "stack_info", "exc_info", "exception"})


class _Pipeline:
    """What ``configure_logging`` installed, to recognise it unchanged."""

    __slots__ = ("config", "handlers", "processors", "snapshot", "stamper")

    def __init__(self, config: dict[str, Any], handlers: list[logging.Handler]) -> None:
        self.config = dict(config)
        self.processors: list[Any] = config["processors"]
        self.snapshot = list(self.processors)  # capture_logs swaps the contents, not the list
        self.stamper = next(p for p in self.processors if isinstance(p, structlog.processors.TimeStamper))
        self.handlers = handlers  # configure_logging's own list, updated in place

    def intact(self) -> bool:
        config = structlog.get_config()
        mine = self.config
        return (
            config["processors"] is self.processors
            and config["logger_factory"] is mine["logger_factory"]
            and config["wrapper_class"] is mine["wrapper_class"]
            and config["context_class"] is mine["context_class"]
            and self.processors == self.snapshot
        )


_pipeline: _Pipeline | None = None


def install(handlers: list[logging.Handler]) -> None:
    """Called by ``configure_logging`` right after ``structlog.configure``."""
    global _pipeline
    _pipeline = _Pipeline(structlog.get_config(), handlers)


def uninstall() -> None:
    global _pipeline
    _pipeline = None


def _only_our_handlers(logger: logging.Logger, handlers: list[logging.Handler]) -> bool:
    """True when the line would reach exactly ``handlers`` (the root's) and no filter on the way."""
    current = logger
    while True:
        if current.filters:
            return False
        parent = current.parent
        if parent is None:
            return current.handlers == handlers
        if current.handlers or not current.propagate:
            return False
        current = parent


def _write(handler: logging.Handler, line: str, record: logging.LogRecord | None) -> None:
    # StreamHandler.handle + emit, minus the record.
    stream = handler.stream  # type: ignore[attr-defined]
    handler.acquire()
    try:
        stream.write(line + handler.terminator)  # type: ignore[attr-defined]
        handler.flush()
    except RecursionError:
        raise
    except Exception:
        handler.handleError(record or logging.makeLogRecord({"msg": line}))
    finally:
        handler.release()


# Lines of one batch, per handler, while a BatchedLogger flushes: written with one call each.
_Sink = dict[logging.Handler, list[str]]


def _drain(sink: _Sink) -> None:
    """Each handler's collected lines in one write."""
    for handler, lines in sink.items():
        terminator: str = handler.terminator  # type: ignore[attr-defined]
        _write(handler, terminator.join(lines), None)
    sink.clear()


def _route(logger: logging.Logger) -> _Pipeline | None:
    """The installed pipeline when the fast route may write ``logger``'s lines, else None."""
    pipeline = _pipeline
    if pipeline is None or not pipeline.intact() or not _only_our_handlers(logger, pipeline.handlers):
        return None
    return pipeline


def _json_stream(
    pipeline: _Pipeline,
) -> tuple[logging.StreamHandler[Any], Callable[[MutableMapping[str, Any]], bytes]] | None:
    """The only handler and its JSON encoder, when the pipeline writes JSON to one plain stream."""
    if len(pipeline.handlers) != 1:
        return None
    handler = pipeline.handlers[0]
    formatter = handler.formatter
    if type(handler) is not logging.StreamHandler or type(formatter) is not FastFormatter or handler.filters:
        return None
    encode = formatter.json_bytes
    return (handler, encode) if encode is not None else None


def _deliver(
    pipeline: _Pipeline,
    name: str,
    level: int,
    method: str,
    event_dict: MutableMapping[str, Any],
    sink: _Sink | None,
) -> None:
    """The finished event to each handler: rendered by ours, as a record to any other."""
    record = None
    for handler in pipeline.handlers:
        if level < handler.level:
            continue
        formatter = handler.formatter
        if (
            type(handler) is logging.StreamHandler
            and type(formatter) is FastFormatter
            and not handler.filters
        ):
            line = formatter.render_event(method, event_dict)
            if sink is None:
                _write(handler, line, None)
            else:
                sink.setdefault(handler, []).append(line)
        else:  # e.g. the rotating file: its rollover needs the record
            if record is None:
                record = make_record(name, level, method, event_dict)
            handler.handle(record)


def _emit(logger: logging.Logger, name: str, level: int, method: str, event: str, kw: dict[str, Any]) -> bool:
    """The line through the fast route; False when it must take structlog's."""
    if not _SLOW_KEYS.isdisjoint(kw):
        return False
    pipeline = _pipeline
    if pipeline is None or not pipeline.intact():
        return False
    if not logger.isEnabledFor(level):  # filter_by_level
        return True
    if not _only_our_handlers(logger, pipeline.handlers):
        return False
    # The processors of `_configure_structlog`, in order, on the dict structlog would build.
    event_dict: MutableMapping[str, Any] = dict(kw)
    event_dict["event"] = event
    merge_contextvars(None, method, event_dict)
    event_dict["level"] = method  # add_log_level (the fast route only takes the plain level names)
    event_dict["logger"] = name  # add_logger_name
    pipeline.stamper(None, method, event_dict)
    redact_event(None, method, event_dict)
    _deliver(pipeline, name, level, method, event_dict, None)
    return True


class FastLogger:
    """``get_logger(name)`` for hot paths: ``debug/info/warning/error(event, **fields)`` only."""

    __slots__ = ("_slow", "_stdlib", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._stdlib = logging.getLogger(name)
        self._slow = structlog.stdlib.get_logger(name)

    def debug(self, event: str, **kw: Any) -> None:
        if not _emit(self._stdlib, self.name, logging.DEBUG, "debug", event, kw):
            self._slow.debug(event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        if not _emit(self._stdlib, self.name, logging.INFO, "info", event, kw):
            self._slow.info(event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        if not _emit(self._stdlib, self.name, logging.WARNING, "warning", event, kw):
            self._slow.warning(event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        if not _emit(self._stdlib, self.name, logging.ERROR, "error", event, kw):
            self._slow.error(event, **kw)

    def __repr__(self) -> str:
        return f"<FastLogger {self.name!r}>"


def get_fast_logger(name: str) -> FastLogger:
    """A logger for lines written on every request; same output as ``get_logger(name)``, fewer calls."""
    return FastLogger(name)


class BatchedLogger:
    """A ``FastLogger`` whose lines leave at the end of the event-loop iteration, many per write.

    For a line per request (the access log): under load one loop iteration finishes many requests. Rendering
    their lines together keeps that code hot in the CPU caches, and one ``write`` + ``flush`` carries them all
    (in ``bench/gateway.py`` the access log went from about 35 to about 15 µs of server CPU per request; see
    ``docs/performance.md``). Each line is rendered in the context
    it was logged from (its request's bound ids), by the same pipeline as ``FastLogger``, in order. Lines are
    late by at most one loop iteration; without a running loop a line is written at once.
    """

    __slots__ = ("_fast", "_pending")

    def __init__(self, name: str) -> None:
        self._fast = FastLogger(name)
        self._pending: list[tuple[int, str, str, dict[str, Any], contextvars.Context]] = []

    @property
    def name(self) -> str:
        return self._fast.name

    def _defer(self, level: int, method: str, event: str, kw: dict[str, Any]) -> None:
        pending = self._pending
        if not pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: nothing would flush later
                pending.append((level, method, event, kw, contextvars.copy_context()))
                self.flush()
                return
        # copy_context is O(1) (the context is an immutable map): the request's bound ids, as they are now.
        pending.append((level, method, event, kw, contextvars.copy_context()))

    def flush(self) -> None:
        """Write every pending line now (also called on shutdown)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        fast = self._fast
        logger, name = fast._stdlib, fast.name
        pipeline = _route(logger)
        if pipeline is None:
            for _, method, event, kw, ctx in pending:
                ctx.run(getattr(fast._slow, method), event, **kw)
            return
        # What `_emit` decides per line holds for the whole batch; the timestamp is the batch's write time.
        stamp = pipeline.stamper(None, "info", {})
        keys = context_keys()
        enabled: dict[int, bool] = {}
        # One JSON stream (the production set-up): each line straight to bytes, all joined into one write.
        direct = _json_stream(pipeline)
        chunks: list[bytes] = []
        sink: _Sink = {}

        def drain() -> None:
            if chunks:
                handler = direct[0]  # type: ignore[index]
                _write(handler, handler.terminator.encode().join(chunks).decode(), None)  # type: ignore[attr-defined]
                chunks.clear()
            _drain(sink)

        for level, method, event, kw, ctx in pending:
            if not _SLOW_KEYS.isdisjoint(kw):
                drain()  # keep the order
                ctx.run(getattr(fast._slow, method), event, **kw)
                continue
            on = enabled.get(level)
            if on is None:
                on = enabled[level] = logger.isEnabledFor(level)
            if not on:
                continue
            event_dict: MutableMapping[str, Any] = dict(kw)
            event_dict["event"] = event
            merge_context_of(ctx, event_dict, keys)
            event_dict["level"] = method
            event_dict["logger"] = name
            event_dict.update(stamp)
            redact_event(None, method, event_dict)
            if direct is None:
                _deliver(pipeline, name, level, method, event_dict, sink)
            elif level >= direct[0].level:
                chunks.append(direct[1](event_dict))
        drain()

    def debug(self, event: str, **kw: Any) -> None:
        self._defer(logging.DEBUG, "debug", event, kw)

    def info(self, event: str, **kw: Any) -> None:
        self._defer(logging.INFO, "info", event, kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._defer(logging.WARNING, "warning", event, kw)

    def error(self, event: str, **kw: Any) -> None:
        self._defer(logging.ERROR, "error", event, kw)

    def __repr__(self) -> str:
        return f"<BatchedLogger {self.name!r}>"


def get_batched_logger(name: str) -> BatchedLogger:
    """A logger for a line per request whose lines may leave at the end of the loop iteration."""
    return BatchedLogger(name)
