"""CI-5.5 turn states, C-11.1 status mapping, CI-10.3 dedupe keys, UUIDv7 and timestamp formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from itertools import product
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.dedupe import (
    check_dedupe_key,
    is_dedupe_key,
    system_dedupe_key,
    turn_dedupe_key,
)
from fabrikit.modules.mini_chat.domain.ids import (
    UuidV7Generator,
    format_db_timestamp,
    format_rfc3339,
    new_uuid7,
    parse_timestamp,
    strictly_after,
    uuid7_unix_ms,
)
from fabrikit.modules.mini_chat.domain.turns import (
    Ending,
    can_transition,
    completion_signal,
    keeps_assistant_message,
    terminal_outcome,
    turn_status_view,
)
from tests.strategies.mini_chat import utc_datetimes

STATES = ["running", "completed", "failed", "cancelled"]


def test_only_running_moves_to_terminal() -> None:
    for a, b in product(STATES, STATES):
        assert can_transition(a, b) == (a == "running" and b != "running")  # type: ignore[arg-type]


def test_status_mapping() -> None:
    rid, mid = uuid4(), uuid4()
    assert (
        turn_status_view(
            request_id=rid, state="running", updated_at="t", error_code="x", assistant_message_id=mid
        ).state
        == "running"
    )
    done = turn_status_view(
        request_id=rid, state="completed", updated_at="t", error_code=None, assistant_message_id=mid
    )
    assert (done.state, done.assistant_message_id, done.error_code) == ("done", mid, None)
    err = turn_status_view(
        request_id=rid, state="failed", updated_at="t", error_code="provider_error", assistant_message_id=mid
    )
    assert (err.state, err.error_code, err.assistant_message_id) == ("error", "provider_error", None)
    cancelled = turn_status_view(
        request_id=rid, state="cancelled", updated_at="t", error_code="x", assistant_message_id=mid
    )
    assert (cancelled.state, cancelled.error_code, cancelled.assistant_message_id) == (
        "cancelled",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("ending", "state", "code", "reason"),
    [
        (Ending(kind="completed"), "completed", None, None),
        (Ending(kind="incomplete", incomplete_reason="content_filter"), "completed", None, "content_filter"),
        (Ending(kind="provider_failed", error_code="rate_limited"), "failed", "rate_limited", None),
        (
            Ending(kind="tool_limit", error_code="web_search_calls_exceeded"),
            "failed",
            "web_search_calls_exceeded",
            None,
        ),
        (Ending(kind="persistence_failed"), "failed", "message_persistence_failed", None),
        (Ending(kind="internal_failure"), "failed", "internal_error", None),
        (Ending(kind="cancelled", trigger="chat_deleted"), "cancelled", None, None),
        (Ending(kind="orphan"), "failed", "orphan_timeout", None),
    ],
)
def test_ending_table(ending: Ending, state: str, code: str | None, reason: str | None) -> None:
    outcome = terminal_outcome(ending)
    assert (outcome.state, outcome.error_code, outcome.completion_reason) == (state, code, reason)


def test_completion_signal_and_message_keeping() -> None:
    assert completion_signal(None) is None
    assert completion_signal("max_tokens") == {"kind": "incomplete", "reason": "max_tokens"}
    assert keeps_assistant_message("completed", "")
    assert keeps_assistant_message("cancelled", "partial")
    assert not keeps_assistant_message("cancelled", "")
    assert not keeps_assistant_message("failed", "text")


def test_dedupe_keys() -> None:
    tenant, turn, req = uuid4(), uuid4(), uuid4()
    key = turn_dedupe_key(tenant, turn, req)
    assert re.fullmatch(r"[0-9a-f]{32}/[0-9a-f]{32}/[0-9a-f]{32}", key)
    assert key == f"{tenant.hex}/{turn.hex}/{req.hex}"
    assert "-" not in key
    system = system_dedupe_key(tenant, req)
    assert system == f"{tenant.hex}/thread_summary_update/{req.hex}"
    assert is_dedupe_key(key)
    assert is_dedupe_key(system)
    assert not is_dedupe_key(str(tenant))
    check_dedupe_key(key, tenant)
    with pytest.raises(ValueError, match="tenant"):
        check_dedupe_key(key, uuid4())


def test_uuid7_layout() -> None:
    value = new_uuid7()
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"
    assert abs(uuid7_unix_ms(value) - datetime.now(UTC).timestamp() * 1000) < 60_000
    assert str(value) == str(value).lower()
    with pytest.raises(ValueError, match="UUIDv7"):
        uuid7_unix_ms(uuid4())


def test_uuid7_monotonic_with_frozen_and_backward_clock() -> None:
    times = iter([1000] * 5000 + [999] * 10 + [2000] * 3)
    gen = UuidV7Generator(clock_ms=lambda: next(times))
    ids = [gen() for _ in range(5013)]
    assert ids == sorted(ids, key=lambda u: u.int)
    assert len(set(ids)) == len(ids)
    assert all(u.version == 7 for u in ids)
    assert uuid7_unix_ms(ids[0]) == 1000
    assert uuid7_unix_ms(ids[-1]) == 2000
    assert uuid7_unix_ms(ids[4999]) > 1000  # counter exhaustion borrowed the next millisecond


@given(st.lists(st.integers(0, 2**48 - 1), min_size=1, max_size=50))
def test_uuid7_embeds_clock_and_never_decreases(clock: list[int]) -> None:
    it = iter(clock)
    gen = UuidV7Generator(clock_ms=lambda: next(it))
    ids: list[UUID] = []
    for _ in clock:
        try:
            ids.append(gen())
        except ValueError:
            return  # ran past the 48-bit range
    assert [u.int for u in ids] == sorted(u.int for u in ids)
    assert all(uuid7_unix_ms(u) >= ms for u, ms in zip(ids, clock, strict=True))


def test_timestamp_formats() -> None:
    ts = datetime(2026, 11, 26, 10, 15, 30, tzinfo=UTC)
    assert format_rfc3339(ts) == "2026-11-26T10:15:30.000000Z"
    assert format_db_timestamp(ts) == "2026-11-26T10:15:30.000000+00:00"
    local = datetime(2026, 11, 26, 12, 15, 30, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_rfc3339(local) == "2026-11-26T10:15:30.123456Z"
    with pytest.raises(ValueError, match="naive"):
        format_rfc3339(datetime(2026, 1, 1))


@given(utc_datetimes, utc_datetimes)
def test_db_text_order_is_time_order(a: datetime, b: datetime) -> None:
    ta, tb = format_db_timestamp(a), format_db_timestamp(b)
    assert len(ta) == len(tb) == 32
    assert (ta < tb) == (a < b)
    assert parse_timestamp(ta) == a
    assert parse_timestamp(format_rfc3339(a)) == a


@given(utc_datetimes, st.none() | utc_datetimes)
def test_strictly_after(now: datetime, floor: datetime | None) -> None:
    result = strictly_after(now, floor)
    assert result >= now
    if floor is not None:
        assert result > floor
