"""Quota enforcement, status and settlement against real storage (C-16, CI-7; T13, T14, T15, T01.08, T18.06):
premium → standard → 429 ``quota_scope``; status numbers equal the sum of settled turns and the ``done`` warnings;
kill switches; the daily web-search quota applies only to turns that ask for web search."""

from __future__ import annotations

from typing import Any

import pytest

from fabrikit.modules.mini_chat.config import MiniChatConfig, QuotaConfig
from fabrikit.modules.mini_chat.domain.errors import QuotaExceeded, WebSearchDisabled
from fabrikit.modules.mini_chat.domain.provider_events import ToolDone, ToolStart
from fabrikit.modules.mini_chat.domain.quota_status import quota_warnings
from fabrikit.modules.mini_chat.domain.service_api import SendMessageBody, WebSearchOption
from fabrikit.modules.mini_chat.domain.sse import Done
from fabrikit.modules.mini_chat.sdk import KillSwitches, TierLimits
from tests.mini_chat_engine.fakes import answer
from tests.mini_chat_engine.helpers import drain

from .conftest import EventsEnv


@pytest.fixture
def config() -> MiniChatConfig:
    # One search a day: only the web-search quota test reaches it.
    return MiniChatConfig(quota=QuotaConfig(web_search_daily_quota=1))


def done_of(items: list[Any]) -> Done:
    (done,) = [i for i in items if isinstance(i, Done)]
    return done


async def settled(env: EventsEnv, tier: str | None = None) -> int:
    rows = await env.rows("SELECT effective_tier, committed_credits_micro FROM chat_turns")
    return sum(
        int(r["committed_credits_micro"] or 0) for r in rows if tier is None or r["effective_tier"] == tier
    )


def used(status: Any, tier: str, period: str) -> int:
    (t,) = [t for t in status.tiers if t.tier == tier]
    (p,) = [p for p in t.periods if p.period == period]
    return int(p.used_credits_micro)


async def test_premium_exhausts_to_standard_then_429_with_quota_scope(env: EventsEnv) -> None:
    await env.start()
    # Premium can never fit a reserve (~15 339 µc); standard fits exactly one capped turn (reserve 3 113 µc).
    env.policy.premium = TierLimits(limit_daily_credits_micro=15_000, limit_monthly_credits_micro=1_000_000)
    env.policy.standard = TierLimits(limit_daily_credits_micro=5_000, limit_monthly_credits_micro=1_000_000)
    env.provider.scripts = [answer("long answer", input_tokens=1000, output_tokens=500)]
    chat = await env.chat("prem")
    done = done_of(await env.turn(chat, "hello"))
    assert (done.quota_decision, done.effective_model, done.downgrade_reason) == (
        "downgrade",
        "std",
        "premium_quota_exhausted",
    )
    calls = len(env.provider.requests)
    with pytest.raises(QuotaExceeded) as caught:
        await env.engine.send_message(env.ctx(), chat, SendMessageBody(content="again"))
    assert caught.value.status == 429
    assert caught.value.quota_scope == "tokens"
    assert len(env.provider.requests) == calls  # no provider call on reject (T14.06)
    reserved = await env.rows("SELECT reserved_credits_micro FROM quota_usage")
    assert all(int(r["reserved_credits_micro"]) == 0 for r in reserved)  # no reserve left behind (T14.11)


async def test_quota_status_equals_the_sum_of_settled_turns_and_done_warnings(env: EventsEnv) -> None:
    await env.start()
    env.policy.premium = TierLimits(limit_daily_credits_micro=200_000, limit_monthly_credits_micro=0)
    prem, std = await env.chat("prem"), await env.chat("std")
    env.provider.scripts = [
        answer("a", input_tokens=120, output_tokens=40),
        answer("b", input_tokens=7, output_tokens=3000),  # overshoot → capped at the reserve
        answer("c", input_tokens=55, output_tokens=9),
    ]
    await env.turn(prem, "one")
    await env.turn(std, "two")
    last = done_of(await env.turn(prem, "three"))
    status = await env.engine.quota_status(env.ctx())
    assert last.quota_warnings == tuple(quota_warnings(status, "premium"))  # C-16.5
    total, premium = await settled(env), await settled(env, "premium")
    assert total > premium > 0
    assert used(status, "total", "daily") == total
    assert used(status, "total", "monthly") == total
    assert used(status, "premium", "daily") == premium
    assert [p.period for t in status.tiers if t.tier == "premium" for p in t.periods] == [
        "daily"
    ]  # limit 0 omitted
    capped = await env.rows("SELECT id FROM chat_turns WHERE overshoot_capped = {}", True)
    assert len(capped) == 1


@pytest.mark.parametrize("switch", ["disable_premium_tier", "force_standard_tier"])
async def test_tier_kill_switches_downgrade_premium_chats(env: EventsEnv, switch: str) -> None:
    await env.start()
    env.policy.kill = KillSwitches(**{switch: True})
    chat = await env.chat("prem")
    done = done_of(await env.turn(chat, "hi"))
    assert (done.effective_model, done.downgrade_reason) == ("std", switch)


async def test_web_search_kill_switch_rejects_before_any_reserve(env: EventsEnv) -> None:
    await env.start()
    env.policy.kill = KillSwitches(disable_web_search=True)
    chat = await env.chat("std")
    with pytest.raises(WebSearchDisabled):
        await env.engine.send_message(
            env.ctx(), chat, SendMessageBody(content="look it up", web_search=WebSearchOption(enabled=True))
        )
    assert await env.rows("SELECT id FROM chat_turns") == []
    done = done_of(await env.turn(chat, "without search"))  # other turns are unaffected
    assert done.quota_decision == "allow"


async def test_daily_web_search_quota_applies_only_when_requested(env: EventsEnv) -> None:
    await env.start()
    chat = await env.chat("std")
    searching = [ToolStart("web_search"), ToolDone("web_search", {}), *answer("found")]
    env.provider.scripts = [searching, answer("plain")]
    web = WebSearchOption(enabled=True)
    first = await env.engine.send_message(
        env.ctx(), chat, SendMessageBody(content="search 1", web_search=web)
    )
    await drain(first.handle)
    rows = await env.rows(
        "SELECT web_search_calls FROM quota_usage WHERE bucket = 'total' AND period_type = 'daily'"
    )
    assert [int(r["web_search_calls"]) for r in rows] == [1]
    with pytest.raises(QuotaExceeded) as caught:
        await env.engine.send_message(env.ctx(), chat, SendMessageBody(content="search 2", web_search=web))
    assert caught.value.quota_scope == "web_search"
    done = done_of(await env.turn(chat, "no search needed"))
    assert done.quota_decision == "allow"
