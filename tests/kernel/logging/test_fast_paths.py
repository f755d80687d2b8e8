"""The fast paths of the logging pipeline (K-17, K-17.2) change cost, never output.

- ``redact_string`` skips a pattern when its literal is absent; ``is_sensitive_key`` remembers its verdicts;
  ``redact_event`` tests exact types first: each is compared with the plain algorithm it replaces.
- ``get_fast_logger`` writes the same line as ``get_logger`` and steps aside whenever it could differ.
- Whatever the route, a secret never reaches the rendered line.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabrikit.kernel._config.redact import (
    SENSITIVE_KEY_RE,
    is_sensitive_key,
    may_hold_credentials,
    redact,
    redact_string,
)
from fabrikit.kernel.logging import (
    _fast,
    bind_context,
    configure_logging,
    get_fast_logger,
    get_logger,
    redact_event,
    reset_logging,
)
from fabrikit.kernel.security import REDACTED, Secret
from tests.strategies.redaction import (
    event_dicts,
    nested_with_secret,
    secrets_,
    text_with_secret,
    tricky_text,
)

# The package re-exports a function of the same name: reach the module itself.
redact_module = importlib.import_module("fabrikit.kernel._config.redact")
_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _configure(**kwargs: Any) -> None:
    """``configure_logging`` with pytest's capture handlers taken off the root logger for this test: they
    would send every line the record route, and the fast route is what these tests exercise. (pytest adds
    them again for its next phase and removes them itself.)"""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    configure_logging(**kwargs)


def _fast_route_taken(event: str = "probe", **fields: Any) -> bool:
    return _fast._emit(
        logging.getLogger("fabrikit.access"), "fabrikit.access", logging.INFO, "info", event, fields
    )


def _reference_redact_string(text: str) -> str:
    """The patterns applied unconditionally: what ``redact_string`` must equal."""
    text = redact_module._AUTH_SCHEME_RE.sub(rf"\g<head>{REDACTED}", text)
    text = redact_module._URL_PASSWORD_RE.sub(rf"\g<head>{REDACTED}@", text)
    return redact_module._QUERY_SECRET_RE.sub(rf"\g<head>{REDACTED}", text)


_STRUCTURAL = frozenset({"timestamp", "level", "logger", "_record", "_from_structlog", "exc_info"})


def _reference_redact_event(event_dict: dict[str, Any]) -> dict[str, Any]:
    """``redact_event`` before its fast paths."""
    for key in list(event_dict):
        if key in _STRUCTURAL:
            continue
        value = event_dict[key]
        if key == "event":
            if isinstance(value, Secret):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = _reference_redact_string(value) if isinstance(value, str) else redact(value)
        elif SENSITIVE_KEY_RE.search(key) and not (value is None or isinstance(value, bool | int | float)):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact(value)
    return event_dict


# ---------------------------------------------------------------- redaction: same results as the plain algorithm
@given(tricky_text)
@_SETTINGS
def test_redact_string_equals_the_unconditional_patterns(text: str) -> None:
    assert redact_string(text) == _reference_redact_string(text)


@given(tricky_text)
@_SETTINGS
def test_text_without_the_literals_is_returned_as_is(text: str) -> None:
    if not may_hold_credentials(text):
        assert redact_string(text) is text


@given(st.text(max_size=30) | st.sampled_from(("Authorization", "x-api-key", "max_tokens", "Cookie", "path")))
@_SETTINGS
def test_key_verdicts_equal_the_regex(key: str) -> None:
    expected = SENSITIVE_KEY_RE.search(key) is not None
    assert is_sensitive_key(key) is expected
    assert is_sensitive_key(key) is expected  # the remembered verdict


def test_key_verdicts_stay_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(redact_module.SENSITIVE_KEYS), "limit", len(redact_module.SENSITIVE_KEYS) + 2)
    keys = [f"field_{i}" for i in range(5)] + ["my_password", "some_token"]
    assert [is_sensitive_key(k) for k in keys] == [False] * 5 + [True, True]
    assert len(redact_module.SENSITIVE_KEYS) <= type(redact_module.SENSITIVE_KEYS).limit
    assert is_sensitive_key(b"password") is False  # not text: never a key match


class _Key(str):
    """A str subclass: never looked up in the remembered verdicts."""


def test_a_str_subclass_key_is_judged_by_the_regex() -> None:
    assert is_sensitive_key(_Key("db_password")) is True
    event = redact_event(None, "info", {_Key("db_password"): "hunter22", "event": "x"})
    assert list(event.values()) == [REDACTED, "x"]


@given(event_dicts, st.sampled_from(("plain", "Bearer abcdefgh12", "see https://u:pw123456@h/x")))
@_SETTINGS
def test_redact_event_equals_the_plain_algorithm(event: dict[str, Any], text: str) -> None:
    event = {**event, "event": text, "timestamp": "Bearer not-redacted-structural"}
    expected = _reference_redact_event(json.loads(json.dumps(event)))
    assert redact_event(None, "info", json.loads(json.dumps(event))) == expected


# ---------------------------------------------------------------- secrets never reach the rendered line
def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().split("\n") if line.strip()]  # not splitlines: \x85


@given(st.data(), secrets_)
@_SETTINGS
def test_a_secret_never_reaches_the_line_on_either_route(data: st.DataObject, secret: str) -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    fields = {
        "detail": data.draw(text_with_secret(secret)),
        "extra": data.draw(nested_with_secret(secret)),
        "bearer_token": secret,
        "key": Secret(secret),
        "count": 3,
    }
    event = data.draw(text_with_secret(secret))
    assert _fast_route_taken(event, **fields)
    get_logger("fabrikit.access").info(event, **fields)
    text = out.getvalue()
    assert secret not in text
    fast, slow = _lines(out)
    assert fast["bearer_token"] == fast["key"] == REDACTED
    fast.pop("timestamp"), slow.pop("timestamp")
    assert fast == slow


@given(st.data(), secrets_)
@_SETTINGS
def test_a_secret_never_reaches_the_console_line(data: st.DataObject, secret: str) -> None:
    out = io.StringIO()
    _configure(format="console", stream=out)
    get_fast_logger("fabrikit.access").warning(
        "seen", url=data.draw(text_with_secret(secret)), password=secret
    )
    assert secret not in out.getvalue()
    assert "seen" in out.getvalue()


# ---------------------------------------------------------------- the fast logger: same line, or structlog's route
def test_fast_line_equals_the_structlog_line_key_for_key() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    bind_context(request_id="req-7", tenant_id="t-7")
    fields = {"method": "GET", "path": "/v1/x", "status": 200, "duration_ms": 1.5, "user_agent": None}
    assert _fast_route_taken("http_request", **fields)
    get_logger("fabrikit.access").info("http_request", **fields)
    fast, slow = _lines(out)
    assert fast.pop("timestamp").endswith("Z")
    slow.pop("timestamp")
    assert list(fast.items()) == list(slow.items())
    assert (fast["request_id"], fast["logger"], fast["level"]) == ("req-7", "fabrikit.access", "info")


def test_levels_apply_to_the_fast_logger() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out, levels={"fabrikit.access": "warning"})
    log = get_fast_logger("fabrikit.access")
    log.debug("hidden_debug")
    log.info("hidden_info")
    log.warning("shown_warning")
    log.error("shown_error")
    assert [(line["event"], line["level"]) for line in _lines(out)] == [
        ("shown_warning", "warning"),
        ("shown_error", "error"),
    ]


def test_capture_logs_sees_fast_logger_lines() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    log = get_fast_logger("fabrikit.access")
    with structlog.testing.capture_logs() as captured:
        assert not _fast_route_taken()
        log.info("captured_line", status=200)
    assert captured == [{"status": 200, "event": "captured_line", "log_level": "info"}]
    assert out.getvalue() == ""
    log.info("after_capture")
    assert _lines(out)[0]["event"] == "after_capture"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_foreign_handler_gets_the_record_and_ours_the_line() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    extra = _Collect()
    logging.getLogger().addHandler(extra)  # as pytest's caplog does
    try:
        assert not _fast_route_taken()
        get_fast_logger("fabrikit.access").info("to_both", authorization="Bearer abcdefgh")
    finally:
        logging.getLogger().removeHandler(extra)
    [record] = extra.records
    assert isinstance(record.msg, MutableMapping)
    assert record.msg["event"] == "to_both"
    assert record.msg["authorization"] == REDACTED
    assert _lines(out)[0]["authorization"] == REDACTED


def test_a_logger_with_its_own_handler_or_filter_takes_the_stdlib_route() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    own = _Collect()
    stdlib = logging.getLogger("fabrikit.access")
    stdlib.addHandler(own)
    stdlib.addFilter(lambda record: record.msg["event"] != "filtered")  # type: ignore[index]
    try:
        assert not _fast_route_taken()
        log = get_fast_logger("fabrikit.access")
        log.info("kept")
        log.info("filtered")
    finally:
        stdlib.removeHandler(own)
        stdlib.filters.clear()
    assert [r.msg["event"] for r in own.records] == ["kept"]  # type: ignore[index]
    assert [line["event"] for line in _lines(out)] == ["kept"]


def test_another_structlog_configuration_is_honoured() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    assert not _fast_route_taken()
    get_fast_logger("fabrikit.access").info("dropped_by_the_wrapper")
    assert out.getvalue() == ""


def test_exception_fields_take_structlog_route() -> None:
    out = io.StringIO()
    _configure(format="json", stream=out)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        get_fast_logger("fabrikit.access").error("failed", exc_info=exc)
    [line] = _lines(out)
    assert "RuntimeError: boom" in line["exception"]


def test_rotating_file_gets_fast_lines(tmp_path: Any) -> None:
    path = tmp_path / "fabrikit.log"
    out = io.StringIO()
    _configure(format="json", stream=out, file={"path": str(path), "max_bytes": "1KiB", "backups": 1})
    for i in range(30):
        get_fast_logger("fabrikit.access").info("line", i=i, password="pw-value")
    reset_logging()
    last = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert (last["i"], last["password"]) == (29, REDACTED)
    assert (tmp_path / "fabrikit.log.1").exists()
    assert len(_lines(out)) == 30


def test_without_configure_logging_the_fast_logger_is_structlogs() -> None:
    reset_logging()
    with structlog.testing.capture_logs() as captured:
        get_fast_logger("fabrikit.access").info("unconfigured", n=1)
    assert captured == [{"n": 1, "event": "unconfigured", "log_level": "info"}]
