"""K-17: one redacting pipeline for structlog and stdlib loggers, JSON or console."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import pathlib
from typing import Any

import pytest
import structlog

from fabrikit.kernel._config import build_config
from fabrikit.kernel.logging import (
    bind_context,
    bound_context,
    clear_context,
    configure_logging,
    configure_logging_from_config,
    get_context,
    get_logger,
    reset_logging,
    unbind_context,
)
from fabrikit.kernel.security import Secret


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_has_the_standard_fields_and_bound_context() -> None:
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    bind_context(request_id="req-1", tenant_id="t-1")
    get_logger("fabrikit.test", module="mini-chat").info("turn_started", turn=3)
    [line] = json_lines(out)
    assert line["event"] == "turn_started"
    assert line["level"] == "info"
    assert line["logger"] == "fabrikit.test"
    assert line["timestamp"].endswith("Z")
    assert (line["request_id"], line["tenant_id"], line["module"], line["turn"]) == (
        "req-1",
        "t-1",
        "mini-chat",
        3,
    )


def test_secrets_and_credentials_never_reach_the_rendered_line() -> None:
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    get_logger("fabrikit.test").info(
        "upstream_called",
        key=Secret("s3cret-value"),
        authorization="Bearer tok-abcdef",
        Authorization="Basic dXNlcjpwYXNz",
        bearer_token="raw-token-1",
        headers={"authorization": "Bearer tok-ghijkl", "x-ok": "fine"},
        nested={"deep": {"api_key": "sk-123456"}, "items": [Secret("in-a-list")]},
        url="https://user:hunter22@h/v1?api_key=sk-q",
        input_tokens=12,
    )
    text = out.getvalue()
    for secret in (
        "s3cret-value",
        "tok-abcdef",
        "dXNlcjpwYXNz",
        "raw-token-1",
        "tok-ghijkl",
        "sk-123456",
        "in-a-list",
        "hunter22",
        "sk-q",
    ):
        assert secret not in text
    [line] = json_lines(out)
    assert line["key"] == line["authorization"] == line["bearer_token"] == "[REDACTED]"
    assert line["headers"] == {"authorization": "[REDACTED]", "x-ok": "fine"}
    assert line["input_tokens"] == 12


def test_stdlib_loggers_share_format_and_redaction() -> None:
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    bind_context(request_id="req-2")
    logging.getLogger("uvicorn.access").info("GET %s %s", "/v1/chats?token=abc123", Secret("pw"))
    logging.getLogger("some.library").warning("plain", extra={"authorization": "Bearer zzzzzzzz"})
    first, second = json_lines(out)
    assert first["logger"] == "uvicorn.access"
    assert first["level"] == "info"
    assert first["event"] == "GET /v1/chats?token=[REDACTED] [REDACTED]"
    assert first["request_id"] == "req-2"
    assert "timestamp" in first
    assert second["authorization"] == "[REDACTED]"


def test_third_party_handlers_are_replaced_by_ours() -> None:
    own = io.StringIO()
    library = logging.getLogger("uvicorn.error")
    library.addHandler(logging.StreamHandler(own))
    library.propagate = False
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    library.info("Started server process")
    assert own.getvalue() == ""
    assert json_lines(out)[0]["event"] == "Started server process"


def test_exceptions_render_as_a_string_field() -> None:
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        get_logger("fabrikit.test").exception("module_failed")
    [line] = json_lines(out)
    assert line["level"] == "error"
    assert "RuntimeError: boom" in line["exception"]


def test_levels_root_and_per_logger() -> None:
    out = io.StringIO()
    configure_logging(
        level="warning", format="json", stream=out, levels={"fabrikit": "debug", "noisy": "error"}
    )
    get_logger("fabrikit.kernel").debug("shown_debug")
    get_logger("other").info("hidden_info")
    logging.getLogger("noisy.child").warning("hidden_warning")
    get_logger("other").warning("shown_warning")
    assert [line["event"] for line in json_lines(out)] == ["shown_debug", "shown_warning"]


def test_reconfiguring_replaces_handlers_and_levels() -> None:
    first, second = io.StringIO(), io.StringIO()
    log = get_logger("fabrikit.again")  # created before configuration, like a module-level logger
    configure_logging(format="json", stream=first, levels={"fabrikit": "error"})
    configure_logging(format="json", stream=second)
    log.info("once")
    assert first.getvalue() == ""
    assert [line["event"] for line in json_lines(second)] == ["once"]
    assert logging.getLogger("fabrikit").level == logging.NOTSET


def test_console_format() -> None:
    out = io.StringIO()
    configure_logging(format="console", stream=out)
    get_logger("fabrikit.test").warning("console_line", password="hunter2", n=1)
    text = out.getvalue()
    assert "console_line" in text
    assert "password=[REDACTED]" in text
    assert "hunter2" not in text
    assert not text.lstrip().startswith("{")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_format_is_console_on_a_tty_and_json_otherwise() -> None:
    tty, pipe = _Tty(), io.StringIO()
    configure_logging(format="auto", stream=tty)
    get_logger("x").info("on_tty")
    configure_logging(format="auto", stream=pipe)
    get_logger("x").info("on_pipe")
    assert not tty.getvalue().startswith("{")
    assert json_lines(pipe)[0]["event"] == "on_pipe"


def test_rotating_json_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "logs" / "fabrikit.log"
    out = io.StringIO()
    configure_logging(
        format="console", stream=out, file={"path": str(path), "max_bytes": "1KiB", "backups": 2}
    )
    for i in range(40):
        get_logger("fabrikit.file").info("line", i=i, password="pw-value")
    reset_logging()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["fabrikit.log", "fabrikit.log.1", "fabrikit.log.2"]
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["i"] == 39
    assert lines[-1]["password"] == "[REDACTED]"


def test_configure_from_config_section(tmp_path: pathlib.Path) -> None:
    cfg = build_config({"logging": {"level": "error", "format": "console", "levels": {"fabrikit": "info"}}})
    out = io.StringIO()
    configure_logging_from_config(cfg.logging, stream=out, format="json", extra_levels={"lib": "debug"})
    get_logger("fabrikit.x").info("kept")
    get_logger("lib.y").debug("also_kept")
    get_logger("other").warning("dropped")
    assert [line["event"] for line in json_lines(out)] == ["kept", "also_kept"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        configure_logging(level="loud")
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        configure_logging(format="xml")  # type: ignore[arg-type]


def test_context_helpers() -> None:
    bind_context(a=1, b=2)
    unbind_context("a")
    assert get_context() == {"b": 2}
    with bound_context(c=3):
        assert get_context() == {"b": 2, "c": 3}
    assert get_context() == {"b": 2}
    clear_context()
    assert get_context() == {}


async def test_tasks_inherit_context_at_creation() -> None:
    out = io.StringIO()
    configure_logging(format="json", stream=out)
    bind_context(request_id="outer")

    async def work() -> None:
        get_logger("fabrikit.task").info("in_task")

    await asyncio.create_task(work())
    assert json_lines(out)[0]["request_id"] == "outer"


def test_capture_logs_sees_loggers_created_earlier() -> None:
    log = get_logger("fabrikit.captured", module="m")
    configure_logging(format="json", stream=io.StringIO())
    log.info("warmup")
    with structlog.testing.capture_logs() as captured:
        log.info("captured_event", x=1)
    assert captured == [{"module": "m", "x": 1, "event": "captured_event", "log_level": "info"}]
