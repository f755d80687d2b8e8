"""Quota enforcement and settlement through HTTP with the numbers checked against the spec's formulas
(C-3.2, C-8, CI-6, CI-7, CI-8.1; C-22 T14-02, T14-07, T14-12, T14-15, T15-02, T15-03, T15-05, T08-10).

Quota rows are per user, so each test uses its own caller (``u1`` … ``u12``). The ``tight`` server's limits make
a premium reserve impossible and let exactly one standard reserve (~98 k µc) fit into the 150 k daily limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.mini_chat_e2e.harness import BASE

from .support import (
    MAX_OUT,
    MINI,
    PREMIUM,
    USER_SUBJECTS,
    Server,
    chat_turn_rows,
    checklist_server,
    credits,
    estimate,
    messages,
    pad_to,
    quota,
    read_events,
    sse,
    stream_path,
    turn_row,
    user,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
STANDARD_DAILY = 150_000
TIGHT = {
    "default_premium_limits": {
        "limit_daily_credits_micro": 100_000,
        "limit_monthly_credits_micro": 500_000_000,
    },
    "default_standard_limits": {
        "limit_daily_credits_micro": STANDARD_DAILY,
        "limit_monthly_credits_micro": 1_000_000_000,
    },
}
# Usage far above the reserve: settlement caps the bill at the reserve (CI-7.6), so one turn spends ~98 k µc.
OVERSHOOT = "[[mock:lorem=2,usage=100000:100000]]"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tight(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database, policy=TIGHT) as s:
        yield s


def _est_in(row: dict[str, Any]) -> int:
    return int(row["reserve_tokens"]) - int(row["max_output_tokens_applied"])


# -- estimation (T14-07, T14-12) ------------------------------------------------------------------------------


async def test_4000_bytes_estimate_1210_tokens_and_reserve_before_the_answer(server: Server) -> None:
    """T14-07: 4000 UTF-8 bytes (not characters) estimate 1210 input tokens; the reserve on the quota rows while
    the turn runs equals the stored ``reserved_credits_micro`` = credits(1210, max_out) (T14-01)."""
    sid = USER_SUBJECTS["u4"]
    for filler in ("a", "\u20ac"):  # 1 and 3 bytes per character
        directive = "[[mock:lorem=3,ttft=400]] "
        content = pad_to(directive + "x" * ((4000 - len(directive)) % 3), 4000, filler)
        assert len(content.encode()) == 4000
        assert estimate(content) == 1210
        chat = await server.chat(headers=user("u4"))
        spent_before, _ = await quota(server, sid)
        async with server.http.stream(
            "POST", stream_path(chat), json={"content": content}, headers=user("u4")
        ) as resp:
            assert resp.status_code == 200
            lines = resp.aiter_lines()
            (started,) = [d for n, d in await read_events(lines, "stream_started")]
            row = await turn_row(server, started["request_id"])
            assert row["state"] == "running"
            assert _est_in(row) == 1210
            assert int(row["max_output_tokens_applied"]) == MAX_OUT
            assert int(row["reserved_credits_micro"]) == credits(1210, MAX_OUT, MINI)
            # Reserved at preflight, before the provider answered anything; nothing spent yet.
            assert await quota(server, sid) == (spent_before, credits(1210, MAX_OUT, MINI))
            async for _ in lines:
                pass
        spent_after, reserved_after = await quota(server, sid)
        assert reserved_after == 0
        assert spent_after > spent_before


async def test_web_search_adds_its_surcharge_to_the_estimate(server: Server) -> None:
    """T14-12: the same 4000 bytes on the premium model estimate 1210 tokens, plus 500 when web search is asked."""
    content = pad_to("[[mock:lorem=2]] ", 4000)
    for web, expected in ((False, 1210), (True, 1710)):
        chat = await server.chat("gpt-4.1", headers=user("u5"))
        stream = await server.stream(chat, content, headers=user("u5"), web_search={"enabled": web})
        assert stream.names[-1] == "done", stream.names
        row = await turn_row(server, stream.one("stream_started")["request_id"])
        assert _est_in(row) == expected == estimate(content, web=web)
        assert int(row["reserved_credits_micro"]) == credits(expected, MAX_OUT, PREMIUM)
        assert bool(row["web_search_enabled"]) is web
        (event,) = await server.usage.wait_for(stream.one("stream_started")["request_id"])
        assert event.web_search_calls == (1 if web else 0)  # completed searches are counted (C-19)


# -- settlement (T15-02, T15-03, T15-05) -------------------------------------------------------------------------


async def test_completed_turn_settles_actual_usage(server: Server) -> None:
    """T15-02: completed ⇒ ``actual``: the debit is credits(reported usage) at the stored multipliers; the
    reserve is gone and the published usage event carries the same numbers."""
    sid = USER_SUBJECTS["u6"]
    chat = await server.chat(headers=user("u6"))
    stream = await server.stream(chat, "bill me [[mock:lorem=3,usage=1234:567]]", headers=user("u6"))
    assert stream.one("done")["usage"]["input_tokens"] == 1234
    request_id = stream.one("stream_started")["request_id"]
    row = await turn_row(server, request_id)
    expected = credits(1234, 567, MINI)
    assert (row["settlement_method"], int(row["committed_credits_micro"])) == ("actual", expected)
    assert not row["overshoot_capped"]
    assert await quota(server, sid) == (expected, 0)
    assert await quota(server, sid, period="monthly") == (expected, 0)
    assert await quota(server, sid, bucket="tier:premium") == (0, 0)  # a standard turn leaves premium alone
    (event,) = await server.usage.wait_for(request_id)
    assert (event.settlement_method, event.billing_outcome) == ("actual", "completed")
    assert event.committed_credits_micro == event.actual_credits_micro == expected
    assert event.usage is not None
    assert (event.usage.input_tokens, event.usage.output_tokens) == (1234, 567)
    assert event.reserve_tokens == int(row["reserve_tokens"])  # the preflight snapshot (C-19)
    assert event.reserved_credits_micro == int(row["reserved_credits_micro"])
    assert event.policy_version_applied == 1
    assert not event.overshoot_capped


@pytest.mark.parametrize(("tokens_in", "tokens_out", "capped"), [(226, 36_000, False), (227, 36_000, True)])
async def test_overshoot_tolerance_boundary(
    server: Server, tokens_in: int, tokens_out: int, capped: bool
) -> None:
    """T15-03: 200 bytes estimate 165 tokens, reserve 165 + 32 768 = 32 933 tokens; usage up to 1.10 × that
    (36 226) settles ``actual`` even above the reserved credits; one token more is capped at the reserve."""
    sid = USER_SUBJECTS["u7"]
    content = pad_to(f"[[mock:lorem=2,usage={tokens_in}:{tokens_out}]] ", 200)
    assert estimate(content) == 165
    chat = await server.chat(headers=user("u7"))
    spent_before, _ = await quota(server, sid)
    stream = await server.stream(chat, content, headers=user("u7"))
    row = await turn_row(server, stream.one("stream_started")["request_id"])
    assert int(row["reserve_tokens"]) == 32_933
    reserve = credits(165, MAX_OUT, MINI)
    assert int(row["reserved_credits_micro"]) == reserve
    expected = reserve if capped else credits(tokens_in, tokens_out, MINI)
    assert row["settlement_method"] == "actual"
    assert bool(row["overshoot_capped"]) is capped
    assert int(row["committed_credits_micro"]) == expected
    if not capped:
        assert expected > reserve  # within tolerance the real cost is billed, even above the reserve
    spent_after, reserved_after = await quota(server, sid)
    assert (spent_after - spent_before, reserved_after) == (expected, 0)
    (event,) = await server.usage.wait_for(stream.one("stream_started")["request_id"])
    assert (event.overshoot_capped, event.committed_credits_micro) == (capped, expected)


@pytest.mark.parametrize(
    ("directive", "code"), [("error=500", "provider_error"), ("error=429", "rate_limited")]
)
async def test_failure_before_generation_is_released(server: Server, directive: str, code: str) -> None:
    """T15-05: the provider refused before generating anything ⇒ ``released``: nothing spent, reserve gone."""
    sid = USER_SUBJECTS["u8"]
    before = await quota(server, sid)
    chat = await server.chat(headers=user("u8"))
    stream = await server.stream(chat, f"refused [[mock:{directive}]]", headers=user("u8"))
    assert stream.one("error")["code"] == code
    request_id = stream.one("stream_started")["request_id"]
    row = await turn_row(server, request_id)
    assert (row["state"], row["settlement_method"], int(row["committed_credits_micro"])) == (
        "failed",
        "released",
        0,
    )
    assert await quota(server, sid) == (before[0], 0)
    (event,) = await server.usage.wait_for(request_id)
    assert (event.billing_outcome, event.settlement_method, event.committed_credits_micro) == (
        "failed",
        "released",
        0,
    )


# -- enforcement (T14-02, T08-10, T14-15) --------------------------------------------------------------------------


def _assert_quota_problem(stream: Any) -> None:
    assert stream.status == 429, (stream.status, stream.problem)
    problem = stream.problem
    assert problem["code"] == "quota_exceeded"
    assert problem["quota_scope"] == "tokens"  # C-3.2: top level…
    assert problem["context"]["quota_scope"] == "tokens"  # …and mirrored in the kernel's context
    assert stream.headers["content-type"].startswith("application/problem+json")


async def test_premium_then_standard_then_429(tight: Server) -> None:
    """T14-02: premium cannot take the reserve → the turn runs on standard (``premium_quota_exhausted``); once
    standard cannot either → 429 ``quota_exceeded`` with ``quota_scope`` (T14-05), no turn, no provider call."""
    sid = USER_SUBJECTS["u1"]
    chat = await tight.chat("gpt-4.1", headers=user("u1"))
    first = await tight.stream(chat, f"first {OVERSHOOT}", headers=user("u1"))
    done = first.one("done")
    assert (done["selected_model"], done["effective_model"]) == ("gpt-4.1", "gpt-4.1-mini")
    assert (done["quota_decision"], done["downgrade_reason"]) == ("downgrade", "premium_quota_exhausted")
    assert done["downgrade_from"] == "gpt-4.1"
    spent, reserved = await quota(tight, sid)
    assert reserved == 0
    assert STANDARD_DAILY - spent < spent  # a second reserve of the same size cannot fit
    assert await quota(tight, sid, bucket="tier:premium") == (0, 0)
    calls = len(tight.provider_calls())

    second = await tight.stream(chat, "second", headers=user("u1"))
    _assert_quota_problem(second)
    assert len(tight.provider_calls()) == calls  # T14-06
    assert len(await chat_turn_rows(tight, chat)) == 1  # C-8.1: no trace
    assert await quota(tight, sid) == (spent, 0)  # T14-11: no reserve left behind
    status = (await tight.http.get(f"{BASE}/quota/status", headers=user("u1"))).json()
    total = next(t for t in status["tiers"] if t["tier"] == "total")
    daily = next(p for p in total["periods"] if p["period"] == "daily")
    assert daily["used_credits_micro"] == spent


async def test_429_on_retry_leaves_the_old_turn_intact(tight: Server) -> None:
    """T08-10: a retry refused by quota changes nothing: the old turn stays live and ``done``, its messages stay
    listed, no turn row is added or replaced, no provider call, no quota change (C-12.2)."""
    sid = USER_SUBJECTS["u2"]
    chat = await tight.chat(headers=user("u2"))
    first = await tight.stream(chat, f"keep me {OVERSHOOT}", headers=user("u2"))
    assert first.names[-1] == "done"
    request_id = first.one("stream_started")["request_id"]
    listed = await messages(tight, chat, headers=user("u2"))
    rows = await chat_turn_rows(tight, chat)
    used = await quota(tight, sid)
    calls = len(tight.provider_calls())

    retry = await sse(tight.http, "POST", f"{BASE}/chats/{chat}/turns/{request_id}/retry", headers=user("u2"))
    _assert_quota_problem(retry)
    status = await tight.http.get(f"{BASE}/chats/{chat}/turns/{request_id}", headers=user("u2"))
    assert status.json()["state"] == "done"
    assert status.json()["assistant_message_id"] == first.one("stream_started")["message_id"]
    assert await messages(tight, chat, headers=user("u2")) == listed
    assert await chat_turn_rows(tight, chat) == rows  # not soft-deleted, no replaced_by, no new row
    assert await quota(tight, sid) == used
    assert len(tight.provider_calls()) == calls
    edit = await sse(
        tight.http, "PATCH", f"{BASE}/chats/{chat}/turns/{request_id}", {"content": "edited"}, user("u2")
    )
    _assert_quota_problem(edit)
    assert await chat_turn_rows(tight, chat) == rows


async def test_parallel_chats_of_one_user_never_over_reserve(tight: Server) -> None:
    """T14-15 (PG): many sends of one user in different chats at once; the check and the reserve share one
    transaction over locked rows, so spent + reserved never exceeds the limit: exactly one long turn runs, the
    others get 429; a sampler watching the rows throughout never sees more than the limit."""
    sid = USER_SUBJECTS["u3"]
    chats = [await tight.chat(headers=user("u3")) for _ in range(8)]
    samples: list[int] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append(sum(await quota(tight, sid)))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    try:
        results = await asyncio.gather(
            *(
                tight.stream(chat, f"race {i} [[mock:lorem=30,latency=100]]", headers=user("u3"))
                for i, chat in enumerate(chats)
            )
        )
    finally:
        stop.set()
        await sampler
    statuses = sorted(r.status for r in results)
    assert statuses == [200] + [429] * 7, [(r.status, r.problem) for r in results]
    for r in results:
        if r.status == 429:
            _assert_quota_problem(r)
        else:
            assert r.names[-1] == "done"
    assert samples
    assert max(samples) <= STANDARD_DAILY, max(samples)
    spent, reserved = await quota(tight, sid)
    assert reserved == 0
    assert spent <= STANDARD_DAILY
    turns = [row for chat in chats for row in await chat_turn_rows(tight, chat)]
    assert len(turns) == 1
    assert sum(int(t["committed_credits_micro"]) for t in turns) == spent
