"""Chats (C-6, C-22 T02), models (C-15, T11), the messages list (C-7, C-4, T03) and reactions (C-14, T12)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from .harness import AUTH, BASE, OTHER_TENANT_USER, OTHER_USER, ChatServer

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
CHAT_FIELDS = {"id", "model", "title", "is_temporary", "message_count", "created_at", "updated_at"}
MODEL_FIELDS = {
    "model_id",
    "display_name",
    "tier",
    "multiplier_display",
    "description",
    "multimodal_capabilities",
    "context_window",
}


def problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"]
    assert body["title"] != code
    return body


# -- models (T11) ------------------------------------------------------------------------------------------


async def test_models_list_get_and_hidden_internals(server: ChatServer) -> None:
    resp = await server.http.get(f"{BASE}/models", headers=AUTH)
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [m["model_id"] for m in items] == ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-mini-tiny-ctx"]  # T11-06
    for item in items:
        assert set(item) == MODEL_FIELDS  # T11-02, T11-05: no provider ids, multipliers, prompts
    premium = items[0]
    assert premium["tier"] == "premium"
    assert premium["multiplier_display"] == "3x"
    assert premium["display_name"].endswith("(mock)")
    assert premium["context_window"] == 1_047_576
    assert set(premium["multimodal_capabilities"]) == {"VISION_INPUT", "RAG"}

    one = await server.http.get(f"{BASE}/models/gpt-4.1-mini", headers=AUTH)
    assert one.status_code == 200
    assert one.json() == items[1]
    problem(await server.http.get(f"{BASE}/models/no-such-model", headers=AUTH), 404, "model_not_found")
    assert (await server.http.get(f"{BASE}/models")).status_code == 401


# -- chats (T02) -------------------------------------------------------------------------------------------


async def test_create_default_and_explicit_model(server: ChatServer) -> None:
    resp = await server.http.post(f"{BASE}/chats", json={"title": "  hello  "}, headers=AUTH)
    assert resp.status_code == 201, resp.text
    chat = resp.json()
    assert set(chat) == CHAT_FIELDS
    assert chat["model"] == "gpt-4.1"  # T02-01: the premium default
    assert chat["title"] == "hello"  # T02-03
    assert chat["is_temporary"] is False
    assert chat["message_count"] == 0
    assert RFC3339.match(chat["created_at"])
    assert RFC3339.match(chat["updated_at"])
    assert str(uuid.UUID(chat["id"])) == chat["id"]
    assert uuid.UUID(chat["id"]).version == 7
    assert resp.headers["location"].endswith(f"{BASE}/chats/{chat['id']}")

    explicit = await server.create_chat(model="gpt-4.1-mini")  # T02-02
    assert explicit["model"] == "gpt-4.1-mini"
    assert explicit["title"] is None
    problem(
        await server.http.post(f"{BASE}/chats", json={"model": "gpt-9"}, headers=AUTH), 400, "invalid_model"
    )  # T02-04
    untitled = await server.http.post(f"{BASE}/chats", json={"unknown_field": 1}, headers=AUTH)
    assert untitled.status_code == 201  # C-1.6 unknown fields ignored


async def test_body_errors(server: ChatServer) -> None:
    malformed = await server.http.post(
        f"{BASE}/chats", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    problem(malformed, 400, "invalid_json")
    wrong = await server.http.post(f"{BASE}/chats", json={"title": 5}, headers=AUTH)
    body = problem(wrong, 400, "validation_error")
    assert body["errors"]
    assert body["errors"][0]["field"] == "title"
    problem(
        await server.http.post(f"{BASE}/chats", json={"title": "   "}, headers=AUTH), 400, "validation_error"
    )
    ok = await server.http.post(f"{BASE}/chats", json={"title": "é" * 255}, headers=AUTH)  # T02-12
    assert ok.status_code == 201
    assert ok.json()["title"] == "é" * 255
    problem(
        await server.http.post(f"{BASE}/chats", json={"title": "é" * 256}, headers=AUTH),
        400,
        "validation_error",
    )


async def test_get_patch_delete(server: ChatServer) -> None:
    chat = await server.create_chat(title="first")
    got = await server.http.get(f"{BASE}/chats/{chat['id']}", headers=AUTH)
    assert got.status_code == 200
    assert got.json() == chat

    for bad in (str(uuid.uuid4()), "not-a-uuid", "123"):  # T02-06
        problem(await server.http.get(f"{BASE}/chats/{bad}", headers=AUTH), 404, "chat_not_found")

    await asyncio.sleep(0.002)
    patched = await server.http.patch(f"{BASE}/chats/{chat['id']}", json={"title": " second "}, headers=AUTH)
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["title"] == "second"
    assert after["updated_at"] > chat["updated_at"]
    assert {k: v for k, v in after.items() if k not in ("title", "updated_at")} == {
        k: v for k, v in chat.items() if k not in ("title", "updated_at")
    }
    problem(
        await server.http.patch(f"{BASE}/chats/{uuid.uuid4()}", json={"title": "x"}, headers=AUTH),
        404,
        "chat_not_found",
    )  # T02-09
    problem(
        await server.http.patch(f"{BASE}/chats/{chat['id']}", json={}, headers=AUTH), 400, "validation_error"
    )

    # T02-14: the model is fixed; PATCH ignores it
    fixed = await server.http.patch(
        f"{BASE}/chats/{chat['id']}", json={"title": "third", "model": "gpt-4.1-mini"}, headers=AUTH
    )
    assert fixed.json()["model"] == chat["model"]

    assert (await server.http.delete(f"{BASE}/chats/{chat['id']}", headers=AUTH)).status_code == 204  # T02-10
    for method, path in (
        ("GET", f"/chats/{chat['id']}"),
        ("DELETE", f"/chats/{chat['id']}"),
        ("GET", f"/chats/{chat['id']}/messages"),
        ("GET", f"/chats/{chat['id']}/turns/{uuid.uuid4()}"),
    ):
        problem(await server.http.request(method, BASE + path, headers=AUTH), 404, "chat_not_found")


async def test_other_users_and_tenants_see_nothing(server: ChatServer) -> None:
    chat = await server.create_chat(title="private")
    for who in (OTHER_USER, OTHER_TENANT_USER):
        problem(await server.http.get(f"{BASE}/chats/{chat['id']}", headers=who), 404, "chat_not_found")
        problem(
            await server.http.patch(f"{BASE}/chats/{chat['id']}", json={"title": "x"}, headers=who),
            404,
            "chat_not_found",
        )
        listed = (await server.http.get(f"{BASE}/chats?limit=100", headers=who)).json()["items"]
        assert chat["id"] not in {c["id"] for c in listed}


async def test_three_page_cursor_walk(server: ChatServer) -> None:
    prefix = f"walk-{uuid.uuid4().hex[:8]}"
    created = [await server.create_chat(title=f"{prefix}-{i}") for i in range(7)]
    query = {"$filter": f"startswith(title,'{prefix}')", "limit": "3"}
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        params = (
            dict(query) if cursor is None else {"$filter": query["$filter"], "limit": "3", "cursor": cursor}
        )
        resp = await server.http.get(f"{BASE}/chats", params=params, headers=AUTH)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) == {"items", "page_info"}
        assert body["page_info"]["limit"] == 3
        pages.append(body)
        seen += [c["id"] for c in body["items"]]
        cursor = body["page_info"]["next_cursor"]
        if cursor is None:
            break
    assert len(pages) == 3
    assert pages[0]["page_info"]["prev_cursor"] is None
    assert seen == [c["id"] for c in reversed(created)]  # updated_at desc, no gaps or repeats

    back = await server.http.get(
        f"{BASE}/chats",
        params={"$filter": query["$filter"], "limit": "3", "cursor": pages[2]["page_info"]["prev_cursor"]},
        headers=AUTH,
    )
    assert [c["id"] for c in back.json()["items"]] == [c["id"] for c in pages[1]["items"]]

    selected = await server.http.get(
        f"{BASE}/chats", params={"$filter": query["$filter"], "$select": "id, TITLE"}, headers=AUTH
    )
    assert all(set(item) == {"id", "title"} for item in selected.json()["items"])
    problem(await server.http.get(f"{BASE}/chats", params={"limit": "0"}, headers=AUTH), 422, "invalid_limit")
    problem(await server.http.get(f"{BASE}/chats", params={"limit": "x"}, headers=AUTH), 422, "invalid_limit")
    clamped = await server.http.get(f"{BASE}/chats", params={"limit": "500"}, headers=AUTH)
    assert clamped.json()["page_info"]["limit"] == 100
    problem(
        await server.http.get(f"{BASE}/chats", params={"$orderby": "nope"}, headers=AUTH),
        422,
        "invalid_orderby",
    )
    problem(
        await server.http.get(f"{BASE}/chats", params={"$filter": "title eq"}, headers=AUTH),
        422,
        "invalid_filter",
    )
    problem(
        await server.http.get(f"{BASE}/chats", params={"$select": ""}, headers=AUTH), 400, "invalid_select"
    )


# -- messages list (T03) and reactions (T12) ---------------------------------------------------------------


async def _chat_with_turns(server: ChatServer, n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    chat = await server.create_chat(model="gpt-4.1-mini")
    for i in range(n):
        stream = await server.send(chat["id"], f"message {i}")
        assert stream.names[-1] == "done", stream.events
    messages = (await server.http.get(f"{BASE}/chats/{chat['id']}/messages?limit=100", headers=AUTH)).json()
    return chat, messages["items"]


async def test_messages_list_cursor_select_orderby_filter(server: ChatServer) -> None:
    chat, items = await _chat_with_turns(server, 3)
    path = f"{BASE}/chats/{chat['id']}/messages"
    assert [m["role"] for m in items] == ["user", "assistant"] * 3
    for user, assistant in zip(items[::2], items[1::2], strict=True):
        assert user["request_id"] == assistant["request_id"]  # T03-08
    for m in items:
        assert m["request_id"]
        assert isinstance(m["attachments"], list)
        assert "my_reaction" in m
        assert ("model" in m) == (m["role"] == "assistant")
    assert all(m["input_tokens"] > 0 and m["output_tokens"] > 0 for m in items[1::2])  # T04-08

    first = (await server.http.get(path, params={"limit": "4"}, headers=AUTH)).json()  # T03-01
    second = (
        await server.http.get(
            path, params={"limit": "4", "cursor": first["page_info"]["next_cursor"]}, headers=AUTH
        )
    ).json()
    assert [m["id"] for m in first["items"] + second["items"]] == [m["id"] for m in items]
    back = (
        await server.http.get(
            path, params={"limit": "4", "cursor": second["page_info"]["prev_cursor"]}, headers=AUTH
        )
    ).json()
    assert [m["id"] for m in back["items"]] == [m["id"] for m in first["items"]]

    sel = (await server.http.get(path, params={"$select": "id,role"}, headers=AUTH)).json()  # T03-02
    assert all(set(m) == {"id", "role"} for m in sel["items"])
    desc = (
        await server.http.get(path, params={"$orderby": "created_at desc"}, headers=AUTH)
    ).json()  # T03-03
    assert [m["id"] for m in desc["items"]] == [m["id"] for m in reversed(items)]
    users = (await server.http.get(path, params={"$filter": "role eq 'user'"}, headers=AUTH)).json()  # T03-04
    assert [m["id"] for m in users["items"]] == [m["id"] for m in items[::2]]
    since = items[2]["created_at"]
    later = (await server.http.get(path, params={"$filter": f"created_at ge {since}"}, headers=AUTH)).json()
    assert [m["id"] for m in later["items"]] == [m["id"] for m in items[2:]]

    problem(  # T03-09
        await server.http.get(
            path, params={"cursor": first["page_info"]["next_cursor"], "$orderby": "created_at"}, headers=AUTH
        ),
        422,
        "invalid_cursor",
    )
    problem(
        await server.http.get(path, params={"$filter": "content eq 'x'"}, headers=AUTH), 422, "invalid_filter"
    )


async def test_reactions(server: ChatServer) -> None:
    chat, items = await _chat_with_turns(server, 1)
    user_msg, answer = items
    base = f"{BASE}/chats/{chat['id']}/messages"

    liked = await server.http.put(f"{base}/{answer['id']}/reaction", json={"reaction": "like"}, headers=AUTH)
    assert liked.status_code == 200, liked.text  # T12-01
    assert liked.json()["message_id"] == answer["id"]
    assert liked.json()["reaction"] == "like"
    await asyncio.sleep(0.002)
    changed = await server.http.put(
        f"{base}/{answer['id']}/reaction", json={"reaction": "dislike"}, headers=AUTH
    )
    assert changed.json()["reaction"] == "dislike"  # T12-02
    assert changed.json()["created_at"] > liked.json()["created_at"]
    listed = (await server.http.get(base, headers=AUTH)).json()["items"]
    assert [m["my_reaction"] for m in listed] == [None, "dislike"]  # T03-07

    problem(  # T12-03
        await server.http.put(f"{base}/{user_msg['id']}/reaction", json={"reaction": "like"}, headers=AUTH),
        400,
        "invalid_reaction_target",
    )
    problem(
        await server.http.put(f"{base}/{answer['id']}/reaction", json={"reaction": "love"}, headers=AUTH),
        400,
        "validation_error",
    )
    for missing in (str(uuid.uuid4()), "not-a-uuid"):  # T12-05
        problem(
            await server.http.put(f"{base}/{missing}/reaction", json={"reaction": "like"}, headers=AUTH),
            404,
            "message_not_found",
        )
    problem(
        await server.http.put(
            f"{BASE}/chats/{uuid.uuid4()}/messages/{answer['id']}/reaction",
            json={"reaction": "like"},
            headers=AUTH,
        ),
        404,
        "chat_not_found",
    )
    assert (
        await server.http.delete(f"{base}/{answer['id']}/reaction", headers=AUTH)
    ).status_code == 204  # T12-04
    assert (await server.http.delete(f"{base}/{answer['id']}/reaction", headers=AUTH)).status_code == 204
    listed = (await server.http.get(base, headers=AUTH)).json()["items"]
    assert [m["my_reaction"] for m in listed] == [None, None]
