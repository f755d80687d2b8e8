"""Authorization through the real PEP with a test PDP plugin in authz-resolver (C-2.3 … C-2.5, CI-17.1;
C-22 T20-01, T20-02, T17-06, T17-07).

The PDP records every evaluation and can allow (static-authz's tenant constraint), deny, fail, or answer with
chosen constraints. Attachment routes do not exist yet (LATER), so their three actions are not exercised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio

from fabrikit.kernel.security import OWNER_TENANT_ID
from fabrikit.modules.authz_resolver.sdk import EqPredicate, InPredicate, PdpConstraint
from fabrikit.modules.mini_chat.sdk import CHAT_RESOURCE_TYPE, MODEL_RESOURCE_TYPE, USER_QUOTA_RESOURCE_TYPE
from tests.mini_chat_e2e.harness import OTHER_SUBJECT, OTHER_TENANT

from .support import AUTH, BASE, PdpCall, RecordingPdp, Server, checklist_server, sse

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
CHAT, MODEL, QUOTA = CHAT_RESOURCE_TYPE, MODEL_RESOURCE_TYPE, USER_QUOTA_RESOURCE_TYPE


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pdp() -> RecordingPdp:
    return RecordingPdp()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None, pdp: RecordingPdp) -> AsyncIterator[Server]:
    async with checklist_server(database, pdp=pdp) as s:
        yield s


def _ours(pdp: RecordingPdp) -> list[PdpCall]:
    """mini-chat's evaluations (oagw also asks the PDP, for its own ``invoke`` on the provider proxy)."""
    return [c for c in pdp.calls if c.resource_type in (CHAT, MODEL, QUOTA)]


@pytest.fixture(autouse=True)
def _allow(pdp: RecordingPdp) -> Iterator[None]:
    """Each test starts and ends allowing (the next server's start-up asks the PDP too)."""
    pdp.mode, pdp.constraints = "allow", ()
    yield
    pdp.mode, pdp.constraints = "allow", ()


async def _turn(s: Server, chat: str, content: str = "hi [[mock:lorem=2]]") -> tuple[str, str]:
    stream = await s.stream(chat, content)
    assert stream.names[-1] == "done", stream.names
    started = stream.one("stream_started")
    return str(started["request_id"]), str(started["message_id"])


Call = Callable[[], Awaitable[tuple[int, dict[str, Any] | None]]]


def _json_call(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Call:
    async def call() -> tuple[int, dict[str, Any] | None]:
        resp = await http.request(method, path, json=body, headers=AUTH)
        is_json = resp.headers.get("content-type", "").startswith(("application/json", "application/problem"))
        return resp.status_code, resp.json() if is_json and resp.content else None

    return call


def _stream_call(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Call:
    async def call() -> tuple[int, dict[str, Any] | None]:
        stream = await sse(http, method, path, body)
        return stream.status, stream.problem

    return call


def _routes(
    s: Server, chat: str, request_id: str, message_id: str
) -> list[tuple[str, str, UUID | None, Call]]:
    """(action, resource type, resource id, call) for every route, in an order that keeps each call valid."""
    c, http = f"{BASE}/chats/{chat}", s.http
    cid = UUID(chat)
    return [
        ("create", CHAT, None, _json_call(http, "POST", f"{BASE}/chats", {"model": "gpt-4.1-mini"})),
        ("list", CHAT, None, _json_call(http, "GET", f"{BASE}/chats")),
        ("read", CHAT, cid, _json_call(http, "GET", c)),
        ("update", CHAT, cid, _json_call(http, "PATCH", c, {"title": "renamed"})),
        ("list_messages", CHAT, cid, _json_call(http, "GET", f"{c}/messages")),
        ("read_turn", CHAT, cid, _json_call(http, "GET", f"{c}/turns/{request_id}")),
        (
            "set_reaction",
            CHAT,
            cid,
            _json_call(http, "PUT", f"{c}/messages/{message_id}/reaction", {"reaction": "like"}),
        ),
        ("delete_reaction", CHAT, cid, _json_call(http, "DELETE", f"{c}/messages/{message_id}/reaction")),
        ("retry_turn", CHAT, cid, _stream_call(http, "POST", f"{c}/turns/{request_id}/retry")),
        ("list", MODEL, None, _json_call(http, "GET", f"{BASE}/models")),
        ("read", MODEL, None, _json_call(http, "GET", f"{BASE}/models/gpt-4.1-mini")),
        ("read", QUOTA, None, _json_call(http, "GET", f"{BASE}/quota/status")),
    ]


async def test_each_operation_asks_the_pdp_once_with_its_action(server: Server, pdp: RecordingPdp) -> None:
    """T20-01: every route evaluates exactly once, with the C-2.3 resource type, action and (for chat routes
    naming a chat) the chat id."""
    chat = await server.chat()
    request_id, message_id = await _turn(server, chat)
    for action, rtype, rid, call in _routes(server, chat, request_id, message_id):
        pdp.calls.clear()
        status, _ = await call()
        assert status < 300, (action, status)
        assert _ours(pdp) == [PdpCall(action, rtype, rid)], (action, pdp.calls)

    # The routes that create or remove turns, each on the turn the previous one left as the latest.
    c = f"{BASE}/chats/{chat}"

    async def expect(action: str, call: Call) -> None:
        pdp.calls.clear()
        status, _ = await call()
        assert status < 300, (action, status)
        assert _ours(pdp) == [PdpCall(action, CHAT, UUID(chat))], (action, pdp.calls)

    await expect("send_message", _stream_call(server.http, "POST", f"{c}/messages:stream", {"content": "x"}))
    await expect(
        "edit_turn",
        _stream_call(server.http, "PATCH", f"{c}/turns/{await _latest(server, chat)}", {"content": "y"}),
    )
    await expect("delete_turn", _json_call(server.http, "DELETE", f"{c}/turns/{await _latest(server, chat)}"))
    await expect("delete", _json_call(server.http, "DELETE", c))


async def _latest(s: Server, chat: str) -> str:
    """The request id of the chat's newest listed message (the latest turn)."""
    items = (await s.http.get(f"{BASE}/chats/{chat}/messages", headers=AUTH)).json()["items"]
    return str(items[-1]["request_id"])


async def test_deny_naming_a_chat_is_404_and_without_an_id_403(server: Server, pdp: RecordingPdp) -> None:
    """T17-06 (C-2.5): a denied operation on a named chat masks it as 404 ``chat_not_found``; a denied operation
    without an id is 403 ``forbidden``; nothing changes."""
    chat = await server.chat()
    request_id, message_id = await _turn(server, chat)
    before = (await server.http.get(f"{BASE}/chats/{chat}", headers=AUTH)).json()
    pdp.mode = "deny"
    for action, _rtype, rid, call in _routes(server, chat, request_id, message_id):
        status, problem = await call()
        assert problem is not None, action
        if rid is not None:
            assert (status, problem["code"]) == (404, "chat_not_found"), (action, status, problem)
        else:
            assert (status, problem["code"]) == (403, "forbidden"), (action, status, problem)
    for call in (
        _stream_call(server.http, "POST", f"{BASE}/chats/{chat}/messages:stream", {"content": "x"}),
        _stream_call(server.http, "PATCH", f"{BASE}/chats/{chat}/turns/{request_id}", {"content": "y"}),
        _json_call(server.http, "DELETE", f"{BASE}/chats/{chat}/turns/{request_id}"),
        _json_call(server.http, "DELETE", f"{BASE}/chats/{chat}"),
    ):
        status, problem = await call()
        assert problem is not None
        assert (status, problem["code"]) == (404, "chat_not_found"), (status, problem)
    pdp.mode = "allow"
    assert (await server.http.get(f"{BASE}/chats/{chat}", headers=AUTH)).json() == before


async def test_pdp_down_is_403_everywhere(server: Server, pdp: RecordingPdp) -> None:
    """T17-07 (C-2.5): the PDP failing is never access: 403 ``forbidden`` with a generic detail, with or without
    a resource id."""
    chat = await server.chat()
    request_id, message_id = await _turn(server, chat)
    pdp.mode = "raise"
    for action, _rtype, _rid, call in _routes(server, chat, request_id, message_id):
        status, problem = await call()
        assert problem is not None, action
        assert (status, problem["code"]) == (403, "forbidden"), (action, status, problem)
        assert "PDP" not in problem["detail"]
        assert "ConnectionError" not in problem["detail"]
    stream = await sse(server.http, "POST", f"{BASE}/chats/{chat}/messages:stream", {"content": "x"})
    assert (stream.status, stream.code) == (403, "forbidden")
    pdp.mode = "allow"
    assert (await server.http.get(f"{BASE}/chats/{chat}", headers=AUTH)).status_code == 200


async def test_constraints_are_part_of_the_query(server: Server, pdp: RecordingPdp) -> None:
    """T20-02: the PDP's constraints filter in SQL. Another tenant's ``owner_tenant_id`` (or another user's
    ``owner_id``) leaves nothing visible; an ``id`` constraint with ``limit=1`` returns exactly that chat on the
    first page with no next cursor — a filter applied after loading the page would return an empty page."""
    chats = [await server.chat() for _ in range(3)]
    oldest = chats[0]
    for constraint in (
        PdpConstraint(predicates=(InPredicate(property=OWNER_TENANT_ID, values=(OTHER_TENANT,)),)),
        PdpConstraint(predicates=(EqPredicate(property="owner_id", value=OTHER_SUBJECT),)),
    ):
        pdp.mode, pdp.constraints = "constrain", (constraint,)
        page = (await server.http.get(f"{BASE}/chats", headers=AUTH)).json()
        assert page["items"] == []
        assert page["page_info"]["next_cursor"] is None
        got = await server.http.get(f"{BASE}/chats/{oldest}", headers=AUTH)
        assert (got.status_code, got.json()["code"]) == (404, "chat_not_found")
        send = await sse(server.http, "POST", f"{BASE}/chats/{oldest}/messages:stream", {"content": "x"})
        assert (send.status, send.code) == (404, "chat_not_found")

    pdp.constraints = (PdpConstraint(predicates=(EqPredicate(property="id", value=oldest),)),)
    page = (await server.http.get(f"{BASE}/chats", params={"limit": 1}, headers=AUTH)).json()
    assert [c["id"] for c in page["items"]] == [oldest]
    assert page["page_info"]["next_cursor"] is None
    assert (await server.http.get(f"{BASE}/chats/{chats[1]}", headers=AUTH)).status_code == 404
    assert (await server.http.get(f"{BASE}/chats/{oldest}", headers=AUTH)).status_code == 200


async def test_edit_with_an_invalid_body_is_evaluated_as_edit_turn(server: Server, pdp: RecordingPdp) -> None:
    """T20-01, C-12 check order: an edit whose body is invalid answers 404 for a chat the caller may not edit and
    400 otherwise — decided by the ``edit_turn`` evaluation, like every other edit."""
    chat = await server.chat()
    request_id, _ = await _turn(server, chat)
    pdp.calls.clear()
    status, problem = await _json_call(server.http, "PATCH", f"{BASE}/chats/{chat}/turns/{request_id}", {})()
    assert problem is not None
    assert (status, problem["code"]) == (400, "validation_error")
    assert _ours(pdp) == [PdpCall("edit_turn", CHAT, UUID(chat))], pdp.calls


@pytest.mark.parametrize("kind", ["unsupported_property", "no_constraints"])
async def test_unusable_constraints_are_403_even_with_an_id(
    server: Server, pdp: RecordingPdp, kind: str
) -> None:
    """C-2.5 / T17-07: constraints the PEP cannot use (an unknown property, or none when rows must be scoped)
    fail closed as 403 ``forbidden`` — also on a route naming a chat, where only a real deny is masked as 404."""
    chat = await server.chat()
    unusable = PdpConstraint(predicates=(EqPredicate(property="colour", value="red"),))
    pdp.mode, pdp.constraints = "constrain", ((unusable,) if kind == "unsupported_property" else ())
    listed = await server.http.get(f"{BASE}/chats", headers=AUTH)
    assert (listed.status_code, listed.json()["code"]) == (403, "forbidden")
    got = await server.http.get(f"{BASE}/chats/{chat}", headers=AUTH)
    assert (got.status_code, got.json()["code"]) == (403, "forbidden")


async def test_permission_only_models_need_no_constraints(server: Server, pdp: RecordingPdp) -> None:
    """C-2.3: ``list``/``read`` on models are permission checks; an allow without row constraints is an allow."""
    pdp.mode, pdp.constraints = "constrain", ()
    assert (await server.http.get(f"{BASE}/models", headers=AUTH)).status_code == 200
    assert (await server.http.get(f"{BASE}/models/gpt-4.1-mini", headers=AUTH)).status_code == 200
