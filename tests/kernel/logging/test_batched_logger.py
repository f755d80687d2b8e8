"""``get_batched_logger``: the lines of one loop iteration leave together, each exactly as ``get_fast_logger``
would have written it, in order, with the context it was logged from; ``context_setter`` binds like
``bind_context``."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
import structlog

from fabrikit.kernel.logging import (
    bind_context,
    clear_context,
    context_setter,
    get_batched_logger,
    get_fast_logger,
    reset_logging,
)
from fabrikit.kernel.security import REDACTED
from tests.kernel.logging.test_fast_paths import _configure


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().split("\n") if line.strip()]


async def test_lines_of_one_iteration_are_written_together_after_it() -> None:
    out = _CountingStream()
    _configure(format="json", stream=out)
    log = get_batched_logger("fabrikit.access")
    for i in range(5):
        log.info("http_request", i=i)
    assert out.getvalue() == ""  # not yet: at the end of this loop iteration
    await asyncio.sleep(0)
    assert [line["i"] for line in _lines(out)] == [0, 1, 2, 3, 4]
    assert out.writes == 1


async def test_each_line_carries_the_context_it_was_logged_from() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    log = get_batched_logger("fabrikit.access")

    async def request(rid: str) -> None:
        bind_context(request_id=rid)  # each task runs in its own copy of the context
        log.info("http_request", path=f"/{rid}")

    await asyncio.gather(request("a"), request("b"), request("c"))
    bind_context(request_id="outer")
    await asyncio.sleep(0)
    assert [(line["request_id"], line["path"]) for line in _lines(out)] == [
        ("a", "/a"),
        ("b", "/b"),
        ("c", "/c"),
    ]


async def test_a_batched_line_equals_the_fast_line() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    bind_context(request_id="req-1", tenant_id="t-1")
    fields = {"method": "GET", "path": "/v1/x?token=abc", "status": 200, "authorization": "Bearer abcdefgh"}
    get_fast_logger("fabrikit.access").info("http_request", **fields)
    get_batched_logger("fabrikit.access").info("http_request", **fields)
    await asyncio.sleep(0)
    fast, batched = _lines(out)
    fast.pop("timestamp"), batched.pop("timestamp")
    assert list(fast.items()) == list(batched.items())
    assert batched["authorization"] == REDACTED
    assert "abc" not in batched["path"]


async def test_levels_apply() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out, levels={"fabrikit.access": "warning"})
    log = get_batched_logger("fabrikit.access")
    log.debug("hidden_debug")
    log.info("hidden_info")
    log.warning("shown_warning")
    log.error("shown_error")
    await asyncio.sleep(0)
    assert [line["event"] for line in _lines(out)] == ["shown_warning", "shown_error"]


async def test_capture_logs_sees_batched_lines() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    log = get_batched_logger("fabrikit.access")
    with structlog.testing.capture_logs() as captured:
        bind_context(request_id="r-9")
        log.info("captured_line", status=200)
        clear_context()
        log.flush()
    assert captured == [{"status": 200, "event": "captured_line", "log_level": "info"}]
    assert out.getvalue() == ""


def test_without_a_running_loop_a_line_is_written_at_once() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    get_batched_logger("fabrikit.access").info("no_loop", n=1)
    assert [line["n"] for line in _lines(out)] == [1]


async def test_flush_writes_pending_lines_now() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    log = get_batched_logger("fabrikit.access")
    log.info("pending")
    log.flush()
    assert [line["event"] for line in _lines(out)] == ["pending"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert len(_lines(out)) == 1


async def test_a_line_for_structlogs_route_keeps_its_place_in_the_batch() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    log = get_batched_logger("fabrikit.access")
    log.info("first")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        log.error("second", exc_info=exc)  # exc_info: structlog's own route
    log.info("third")
    await asyncio.sleep(0)
    lines = _lines(out)
    assert [line["event"] for line in lines] == ["first", "second", "third"]
    assert "RuntimeError: boom" in lines[1]["exception"]
    assert all(line["timestamp"].endswith("Z") for line in lines)


async def test_context_setter_binds_like_bind_context_and_stays_in_its_task() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    set_ids = context_setter("request_id", "tenant_id")
    log = get_fast_logger("fabrikit.access")

    async def request(rid: str) -> None:
        set_ids(rid, f"t-{rid}")
        log.info("line")

    await asyncio.gather(request("a"), request("b"))
    log.info("outside")  # the tasks' values never reached this context
    lines = _lines(out)
    assert [(line.get("request_id"), line.get("tenant_id")) for line in lines] == [
        ("a", "t-a"),
        ("b", "t-b"),
        (None, None),
    ]
    with pytest.raises(TypeError):
        set_ids("only-one")

    set_three = context_setter("a", "b", "c")
    set_three(1, 2, 3)
    log.info("three")
    assert {k: _lines(out)[-1][k] for k in "abc"} == {"a": 1, "b": 2, "c": 3}
    with pytest.raises(ValueError, match="shorter"):
        set_three(1, 2)


async def test_a_second_sink_gets_the_same_lines(tmp_path: Any) -> None:
    """Stream + rotating file: each handler gets every line (the route for more than one JSON stream)."""
    out = io.StringIO()
    path = tmp_path / "fabrikit.log"
    _configure(format="json", stream=out, file={"path": str(path), "max_bytes": "1MiB", "backups": 1})
    log = get_batched_logger("fabrikit.access")
    bind_context(request_id="r-1")
    for i in range(3):
        log.info("line", i=i, token="t0ps3cret")
    await asyncio.sleep(0)
    reset_logging()
    in_file = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert _lines(out) == in_file
    assert [(line["i"], line["token"], line["request_id"]) for line in in_file] == [
        (i, REDACTED, "r-1") for i in range(3)
    ]


async def test_console_lines_are_batched_too() -> None:
    out = io.StringIO()
    _configure(format="console", stream=out)
    log = get_batched_logger("fabrikit.access")
    log.info("first_line", authorization="Bearer abcdefgh")
    log.info("second_line")
    await asyncio.sleep(0)
    text = out.getvalue()
    assert text.index("first_line") < text.index("second_line")
    assert "abcdefgh" not in text
