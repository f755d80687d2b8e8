"""Settlement observed through the database and the published usage events (CI-5, CI-6, CI-7.2, CI-7.6,
CI-10.3, CI-14.2; C-22 T15-04, T15-06, T15-08, T15-09, T15-10, T15-11, T21-02).

Usage events are recorded by a model-policy plugin that is static-model-policy plus a log of ``publish_usage``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from .support import (
    MINI,
    USER_SUBJECTS,
    Server,
    chat_turn_rows,
    checklist_server,
    credits,
    estimate,
    hexid,
    messages,
    quota,
    quota_by_day,
    read_events,
    stream_path,
    turn_row,
    user,
    wait_state,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
DEDUPE_RE = re.compile(r"^[0-9a-f]{32}/[0-9a-f]{32}/[0-9a-f]{32}$")
FAST_WATCHDOG = {"orphan_watchdog": {"scan_interval_seconds": 5, "timeout_seconds": 90}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database, mini_chat=FAST_WATCHDOG) as s:
        yield s


async def _disconnect_after(s: Server, chat: str, content: str, event: str, headers: dict[str, str]) -> str:
    """Opens a stream, reads until the first ``event``, leaves; returns the request id."""
    async with s.http.stream("POST", stream_path(chat), json={"content": content}, headers=headers) as resp:
        assert resp.status_code == 200
        seen = await read_events(resp.aiter_lines(), event)
    return str(seen[0][1]["request_id"])


async def _wait_disconnected(s: Server, marker: str) -> None:
    for _ in range(200):
        (record,) = [r for r in s.provider_calls() if marker in str(r.get("json"))]
        if record["outcome"]["disconnected"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the upstream call was not closed")


async def test_cancel_without_usage_settles_the_estimate(server: Server) -> None:
    """T15-04 (without usage): a disconnect mid-stream cancels; the provider reported no usage, so the debit is
    credits(estimated input, minimal generation floor 50); the partial answer is kept. The "with usage ⇒ actual"
    half needs usage before the terminal event, which no provider sends before the end of a stream (engine
    tests cover it)."""
    sid = USER_SUBJECTS["u1"]
    chat = await server.chat(headers=user("u1"))
    marker = uuid.uuid4().hex
    content = f"{marker} [[mock:lorem=400,latency=20]]"
    request_id = await _disconnect_after(server, chat, content, "delta", user("u1"))
    assert (await wait_state(server, chat, request_id, user("u1")))["state"] == "cancelled"
    row = await turn_row(server, request_id)
    expected = credits(estimate(content), 50, MINI)
    assert (row["settlement_method"], int(row["committed_credits_micro"])) == ("estimated", expected)
    assert await quota(server, sid) == (expected, 0)
    assert [m["role"] for m in await messages(server, chat, user("u1"))] == ["user", "assistant"]
    (event,) = await server.usage.wait_for(request_id)
    assert (event.terminal_state, event.billing_outcome, event.settlement_method) == (
        "cancelled",
        "aborted",
        "estimated",
    )
    assert event.committed_credits_micro == expected
    await _wait_disconnected(server, marker)


async def test_disconnect_while_the_provider_is_silent(server: Server) -> None:
    """T21-02 as reachable over HTTP: the client leaves right after ``stream_started`` while the provider has not
    answered yet (long ``ttft``). The request is already dispatched when ``stream_started`` is queued (CI-4
    producer step 2 runs in the same loop tick), so CI-6 gives ``estimated``, never ``released`` (no free
    cancel, CI-6.1); no assistant message; upstream closed; nothing left reserved. The truly pre-dispatch cancel
    (``released``) is not reachable from a client; tests/mini_chat_engine covers it."""
    sid = USER_SUBJECTS["u2"]
    chat = await server.chat(headers=user("u2"))
    marker = uuid.uuid4().hex
    content = f"{marker} [[mock:lorem=5,ttft=3000]]"
    request_id = await _disconnect_after(server, chat, content, "stream_started", user("u2"))
    status = await wait_state(server, chat, request_id, user("u2"), timeout=2.5)  # well before the ttft ends
    assert status["state"] == "cancelled"
    assert [m["role"] for m in await messages(server, chat, user("u2"))] == ["user"]
    row = await turn_row(server, request_id)
    assert row["settlement_method"] == "estimated"
    assert await quota(server, sid) == (credits(estimate(content), 50, MINI), 0)
    await _wait_disconnected(server, marker)


async def test_client_gone_before_the_response_head_cancels_at_once(server: Server) -> None:
    """T21-02, earliest possible disconnect: the client closes its socket right after sending the request, before
    any response byte. The turn is still cancelled promptly (not after the relay stall timeout) and, dispatched
    already, settled with the estimate; nothing stays reserved."""
    sid = USER_SUBJECTS["u10"]
    chat = await server.chat(headers=user("u10"))
    request_id = str(uuid.uuid4())
    content = "gone [[mock:lorem=3000,latency=5]]"
    body = json.dumps({"content": content, "request_id": request_id}).encode()
    port = int(server.harness.base_url.rsplit(":", 1)[1])
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {stream_path(chat)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer u10\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    writer.close()
    for _ in range(100):  # the preflight may still be committing when the socket is already gone
        if await chat_turn_rows(server, chat):
            break
        await asyncio.sleep(0.05)
    status = await wait_state(server, chat, request_id, user("u10"), timeout=5)  # the answer would take 15 s
    assert status["state"] == "cancelled"
    row = await turn_row(server, request_id)
    assert row["settlement_method"] == "estimated"
    assert await quota(server, sid) == (credits(estimate(content), 50, MINI), 0)


async def test_one_usage_event_per_turn_with_its_dedupe_key(server: Server) -> None:
    """T15-10 and T15-08: every reserved turn — completed, failed, cancelled — publishes exactly one usage event
    whose ``dedupe_key`` is ``{tenant}/{turn}/{request}`` as 32 lowercase hex chars each."""
    chat = await server.chat(headers=user("u3"))
    ids = []
    for content in (
        "done [[mock:lorem=3]]",
        "broken [[mock:error=500]]",
        "half [[mock:lorem=5,fail_after=2]]",
    ):
        ids.append(
            (await server.stream(chat, content, headers=user("u3"))).one("stream_started")["request_id"]
        )
    cancelled_chat = await server.chat(headers=user("u3"))
    ids.append(
        await _disconnect_after(
            server, cancelled_chat, "bye [[mock:lorem=300,latency=20]]", "delta", user("u3")
        )
    )
    await wait_state(server, cancelled_chat, ids[-1], user("u3"))
    for request_id in ids:
        await server.usage.wait_for(request_id)
    await asyncio.sleep(0.5)  # room for an erroneous second event
    outcomes = []
    for request_id in ids:
        (event,) = server.usage.for_request(request_id)
        row = await turn_row(server, request_id)
        assert DEDUPE_RE.match(event.dedupe_key), event.dedupe_key
        assert event.dedupe_key == f"{hexid(row['tenant_id'])}/{hexid(row['id'])}/{hexid(request_id)}"
        assert event.turn_id == uuid.UUID(str(row["id"]))
        assert event.user_id == uuid.UUID(USER_SUBJECTS["u3"])
        assert event.committed_credits_micro == int(row["committed_credits_micro"])
        outcomes.append((event.terminal_state, event.settlement_method))
    assert outcomes == [
        ("completed", "actual"),
        ("failed", "released"),
        ("failed", "actual"),
        ("cancelled", "estimated"),
    ]


async def test_redelivered_usage_event_is_identical_and_harmless(server: Server) -> None:
    """T15-09: the first delivery fails transiently, the outbox delivers the same event again (same dedupe key,
    same content, so a deduping consumer counts it once); the turn is settled once and quota does not move."""
    sid = USER_SUBJECTS["u4"]
    server.usage.fail_first = True
    try:
        chat = await server.chat(headers=user("u4"))
        stream = await server.stream(chat, "twice [[mock:lorem=3,usage=10:3]]", headers=user("u4"))
        request_id = stream.one("stream_started")["request_id"]
        first, second = await server.usage.wait_for(request_id, count=2)
    finally:
        server.usage.fail_first = False
    assert first == second
    assert first.dedupe_key == second.dedupe_key
    assert await quota(server, sid) == (credits(10, 3, MINI), 0)
    await asyncio.sleep(0.3)
    assert len(server.usage.for_request(request_id)) == 2  # delivered after success: no third time
    assert int((await turn_row(server, request_id))["committed_credits_micro"]) == credits(10, 3, MINI)


def _db_ts(s: Server, value: datetime) -> Any:
    """A timestamp bound the way the module stores it (CI-2.4: fixed-width text on SQLite)."""
    if s.db.dialect == "postgres":
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


async def test_orphan_is_settled_with_the_estimate_and_the_stream_is_interrupted(server: Server) -> None:
    """T15-06 (and T15-01): a running turn whose progress is older than the watchdog timeout is finalized by the
    watchdog — ``failed``/``orphan_timeout``, ``estimated``, one usage event (aborted). The still-streaming
    producer then loses its CAS: no second settlement, no assistant message, and its client gets
    ``error {code: "stream_interrupted"}`` (C-9.5)."""
    sid = USER_SUBJECTS["u5"]
    chat = await server.chat(headers=user("u5"))
    content = "slow [[mock:lorem=350,latency=20]]"
    async with server.http.stream(
        "POST", stream_path(chat), json={"content": content}, headers=user("u5")
    ) as resp:
        lines = resp.aiter_lines()
        request_id = str((await read_events(lines, "delta"))[0][1]["request_id"])
        row = await turn_row(server, request_id)
        stale = datetime.now(UTC) - timedelta(hours=1)
        await server.db.execute(
            "UPDATE chat_turns SET last_progress_at = {} WHERE id = {}", _db_ts(server, stale), row["id"]
        )
        status = await wait_state(server, chat, request_id, user("u5"), timeout=8)
        assert (status["state"], status["error_code"]) == ("error", "orphan_timeout")
        rest = [line async for line in lines]
    events = [line[7:] for line in rest if line.startswith("event: ")]
    assert events[-1] == "error", events
    assert '"code":"stream_interrupted"' in rest[rest.index("event: error") + 1]
    assert "done" not in events
    row = await turn_row(server, request_id)
    expected = credits(estimate(content), 50, MINI)
    assert (row["state"], row["error_code"], row["settlement_method"]) == (
        "failed",
        "orphan_timeout",
        "estimated",
    )
    assert int(row["committed_credits_micro"]) == expected
    assert row["assistant_message_id"] is None
    assert [m["role"] for m in await messages(server, chat, user("u5"))] == [
        "user"
    ]  # the watchdog writes none
    assert await quota(server, sid) == (expected, 0)
    await server.usage.wait_for(request_id)
    await asyncio.sleep(0.3)
    (event,) = server.usage.for_request(request_id)
    assert (event.billing_outcome, event.settlement_method, event.error_code) == (
        "aborted",
        "estimated",
        "orphan_timeout",
    )


class _SteppedClock:
    """Wall time shifted by an adjustable offset (the module's clock port, CI-1.4); monotonic time untouched."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)


async def test_turn_crossing_midnight_settles_into_its_preflight_day(database: dict[str, Any] | None) -> None:
    """T15-11: periods are fixed at preflight (CI-7.2). A turn started at 23:59:59 on the last day of a month
    and finished after midnight settles into that day and month: the reserve leaves those rows, the debit lands
    there, and the new day's and month's rows stay untouched.

    The module exposes its clock (``MiniChat.engine.clock``, the CI-1.4 clock port shared by preflight, runner
    and finalizer); the test moves its wall time. The date is in the future, so PostgreSQL's ``now()``-based
    watchdog never sees the turn as stale."""
    sid = USER_SUBJECTS["u6"]
    before_midnight = datetime(datetime.now(UTC).year + 1, 1, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    async with checklist_server(database) as s:
        assert s.module.engine is not None
        clock = _SteppedClock(before_midnight)
        s.module.engine.clock.now = clock.now  # type: ignore[method-assign]
        chat = await s.chat(headers=user("u6"))
        async with s.http.stream(
            "POST", stream_path(chat), json={"content": "late [[mock:lorem=2,ttft=800]]"}, headers=user("u6")
        ) as resp:
            lines = resp.aiter_lines()
            request_id = str((await read_events(lines, "stream_started"))[0][1]["request_id"])
            row = await turn_row(s, request_id)
            reserve = int(row["reserved_credits_micro"])
            running = await quota_by_day(s, sid)
            assert int(running[before_midnight.date().isoformat()]["reserved_credits_micro"]) == reserve
            clock.jump_to(before_midnight + timedelta(seconds=2))
            rest = [line async for line in lines]
        assert "event: done" in rest
        row = await turn_row(s, request_id)
        day, month = before_midnight.date(), before_midnight.date().replace(day=1)
        assert str(row["quota_period_daily"])[:10] == day.isoformat()
        assert str(row["quota_period_monthly"])[:10] == month.isoformat()
        assert row["state"] == "completed"
        assert row["settlement_method"] == "actual"
        committed = int(row["committed_credits_micro"])
        assert 0 < committed < reserve
        daily = await quota_by_day(s, sid)
        monthly = await quota_by_day(s, sid, period="monthly")
        assert set(daily) == {day.isoformat()}, daily  # nothing created for the new day
        assert set(monthly) == {month.isoformat()}, monthly
        for rows in (daily, monthly):
            (only,) = rows.values()
            assert (int(only["spent_credits_micro"]), int(only["reserved_credits_micro"])) == (committed, 0)
        status = (await s.http.get("/mini-chat/v1/quota/status", headers=user("u6"))).json()
        total = next(t for t in status["tiers"] if t["tier"] == "total")
        assert {p["period"]: p["used_credits_micro"] for p in total["periods"]} == {"daily": 0, "monthly": 0}
        del s.module.engine.clock.now  # back to the system clock
