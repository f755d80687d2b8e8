"""SSE content events over a real server (C-9, C-10.2; C-22 T05-03, T05-04, T05-08, T05-14).

File citations need attachments, which have no routes yet (LATER here), so T05-04 is proven with web citations.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from fabrikit.modules.mini_chat.domain.sse import is_valid_stream
from fabrikit.plugins.static_model_policy.catalog import DEFAULT_CATALOG
from tests.mini_chat_e2e.harness import assert_no_provider_ids

from .support import Server, checklist_server, turn_row

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
WEB: dict[str, Any] = {"web_search": {"enabled": True}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database) as s:
        yield s


async def test_tool_events_carry_start_and_done_details(server: Server) -> None:
    """T05-03: each provider tool call is one ``tool start {}`` then one ``tool done`` with the tool's details."""
    chat = await server.chat("gpt-4.1")
    stream = await server.stream(chat, "look twice [[mock:tools=web_search:2,lorem=4]]", **WEB)
    assert is_valid_stream(stream.names), stream.names
    assert (
        stream.data("tool")
        == [
            {"phase": "start", "name": "web_search", "details": {}},
            {"phase": "done", "name": "web_search", "details": {}},
        ]
        * 2
    )
    assert stream.names[-1] == "done"
    row = await turn_row(server, stream.one("stream_started")["request_id"])
    assert int(row["web_search_completed_count"]) == 2  # the done events are the completed calls counted
    assert_no_provider_ids(stream)


async def test_web_citations_are_mapped_after_the_deltas_and_before_done(server: Server) -> None:
    """T05-04 (web): one ``citations`` event, after the last delta, right before ``done``; url/title from the
    provider's ``url_citation``; ``snippet`` = the cited span of the answer; no attachment id on web items."""
    chat = await server.chat("gpt-4.1")
    stream = await server.stream(chat, "cite [[mock:tools=web_search:2,lorem=5]]", **WEB)
    names = stream.names
    assert is_valid_stream(names), names
    assert names.count("citations") == 1
    assert names[-2:] == ["citations", "done"]
    assert max(i for i, n in enumerate(names) if n == "delta") < names.index("citations")
    items = stream.one("citations")["items"]
    assert [(i["url"], i["title"]) for i in items] == [
        (f"https://example.com/mock/search/{n}", f"Mock result {n}") for n in (1, 2)
    ]
    answer = stream.text
    for item in items:
        assert item["source"] == "web"
        assert "attachment_id" not in item
        assert item["snippet"] == answer[item["span"]["start"] : item["span"]["end"]]
        assert set(item) <= {"source", "title", "url", "snippet", "score", "span"}
    assert_no_provider_ids(stream)


async def test_no_citations_when_empty_or_when_the_turn_failed(server: Server) -> None:
    """C-9.7: only for completed turns, only if non-empty."""
    chat = await server.chat("gpt-4.1")
    quiet = await server.stream(chat, "no cites [[mock:tools=web_search,citations=none,lorem=3]]", **WEB)
    assert quiet.names[-1] == "done"
    assert "citations" not in quiet.names
    chat = await server.chat("gpt-4.1")
    broken = await server.stream(
        chat, "cites then break [[mock:tools=web_search,lorem=6,fail_after=3]]", **WEB
    )
    assert broken.names[-1] == "error", broken.names
    assert "citations" not in broken.names


@pytest.mark.parametrize(
    ("directive", "reason"),
    [("incomplete", "max_tokens"), ("incomplete=content_filter", "content_filter")],
)
async def test_completion_signal_only_on_early_stop(server: Server, directive: str, reason: str) -> None:
    """T05-14: ``completion_signal`` appears only when the provider stopped early, and replays from storage."""
    chat = await server.chat()
    normal = await server.stream(chat, "all of it [[mock:lorem=4]]")
    assert "completion_signal" not in normal.one("done")
    request_id = str(uuid.uuid4())
    early = await server.stream(chat, f"stop early [[mock:lorem=6,{directive}]]", request_id=request_id)
    done = early.one("done")
    assert done["completion_signal"] == {"kind": "incomplete", "reason": reason}
    assert done["usage"]["output_tokens"] == 6
    assert "citations" not in early.names
    replay = await server.stream(chat, "stop early", request_id=request_id)
    assert replay.one("stream_started")["is_new_turn"] is False
    assert replay.one("done")["completion_signal"] == {"kind": "incomplete", "reason": reason}  # C-10.2
    assert (await turn_row(server, request_id))["state"] == "completed"
    (event,) = await server.usage.wait_for(request_id)  # C-19: as in ``done``
    assert event.completion_signal == {"kind": "incomplete", "reason": reason}
    assert event.terminal_state == "completed"


def _catalog_without_premium() -> list[dict[str, Any]]:
    catalog = copy.deepcopy(DEFAULT_CATALOG)
    for entry in catalog:
        if entry["id"] == "gpt-4.1":
            entry["enabled"] = False
    return catalog


@pytest.mark.parametrize("switch", ["force_standard_tier", "disable_premium_tier"])
async def test_kill_switch_downgrade_fields(database: dict[str, Any] | None, switch: str) -> None:
    """T05-08: a premium chat under a tier kill switch runs on the standard default; ``done`` names both models,
    the decision and the reason; a standard chat is untouched; a replay repeats the stored decision."""
    async with checklist_server(database, policy={"kill_switches": {switch: True}}) as s:
        premium = await s.chat("gpt-4.1")
        marker = uuid.uuid4().hex
        stream = await s.stream(premium, f"{marker} [[mock:lorem=3]]")
        done = stream.one("done")
        assert done["selected_model"] == "gpt-4.1"
        assert done["effective_model"] == done["usage"]["model"] == "gpt-4.1-mini"
        assert done["quota_decision"] == "downgrade"
        assert done["downgrade_from"] == "gpt-4.1"
        assert done["downgrade_reason"] == switch
        assert {w["tier"] for w in done["quota_warnings"]} == {"total"}  # only the buckets the turn touched
        (call,) = [c for c in s.provider_calls() if marker in str(c["json"])]
        assert call["json"]["model"] == "gpt-4.1-mini"
        request_id = stream.one("stream_started")["request_id"]
        row = await turn_row(s, request_id)
        assert (row["effective_tier"], row["quota_decision"], row["downgrade_reason"]) == (
            "standard",
            "downgrade",
            switch,
        )
        (event,) = await s.usage.wait_for(request_id)  # C-19: the preflight decision travels with the usage
        assert (event.selected_model, event.effective_model) == ("gpt-4.1", "gpt-4.1-mini")
        assert (event.quota_decision, event.downgrade_from, event.downgrade_reason) == (
            "downgrade",
            "gpt-4.1",
            switch,
        )
        replay = await s.stream(premium, "again", request_id=request_id)
        replayed = replay.one("done")
        assert {k: replayed.get(k) for k in ("quota_decision", "downgrade_from", "downgrade_reason")} == {
            "quota_decision": "downgrade",
            "downgrade_from": "gpt-4.1",
            "downgrade_reason": switch,
        }
        standard = await s.chat("gpt-4.1-mini")
        plain = (await s.stream(standard, "standard [[mock:lorem=2]]")).one("done")
        assert plain["quota_decision"] == "allow"
        assert "downgrade_from" not in plain
        assert "downgrade_reason" not in plain


async def test_disabled_chat_model_downgrades_with_model_disabled(
    database: dict[str, Any] | None, tmp_path: Path
) -> None:
    """C-8.3 / T05-08: the chat's model was disabled after creation; the turn runs on the next tier's default
    with ``downgrade_reason: model_disabled``; the chat keeps its model (C-6.3)."""
    async with checklist_server(database, home=tmp_path) as s:
        chat = await s.chat("gpt-4.1")
    async with checklist_server(
        database, home=tmp_path, policy={"model_catalog": _catalog_without_premium()}
    ) as s:
        done = (await s.stream(chat, "still here [[mock:lorem=2]]")).one("done")
        assert done["selected_model"] == "gpt-4.1"
        assert done["effective_model"] == "gpt-4.1-mini"
        assert done["quota_decision"] == "downgrade"
        assert done["downgrade_from"] == "gpt-4.1"
        assert done["downgrade_reason"] == "model_disabled"
        got = await s.http.get(f"/mini-chat/v1/chats/{chat}", headers={"Authorization": "Bearer dev-token"})
        assert got.json()["model"] == "gpt-4.1"
