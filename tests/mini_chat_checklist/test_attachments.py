"""Attachments through HTTP (C-13, CI-12): uploads reach mock-llm's Files and vector-store APIs through oagw, the
answer follows indexing, messages use them for file search with citations mapped back, and every refusal comes in
the specification's order with its code. SQLite and PostgreSQL.

The server's caps are small so limits are reachable: images 64 KiB, documents 1 MiB, three documents and 2 MiB
per chat.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from tests.mini_chat_e2e.harness import AUTH, BASE, assert_no_provider_ids

from .support import Server, checklist_server

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
RAG = {
    "uploaded_image_max_size_kb": 64,
    "uploaded_file_max_size_kb": 1024,
    "max_documents_per_chat": 3,
    "max_total_upload_mb_per_chat": 2,
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100  # the mock stores bytes; no decoder reads them


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(database: dict[str, Any] | None) -> AsyncIterator[Server]:
    async with checklist_server(database, mini_chat={"rag": RAG}) as s:
        yield s


def _path(chat: str) -> str:
    return f"{BASE}/chats/{chat}/attachments"


async def _upload(s: Server, chat: str, name: str, data: bytes, content_type: str, **kw: Any) -> Any:
    return await s.http.post(_path(chat), files={"file": (name, data, content_type)}, headers=AUTH, **kw)


def _mock_calls(s: Server, method: str, prefix: str) -> list[dict[str, Any]]:
    return [r for r in s.mock.requests(path_prefix=prefix) if r["method"] == method]


async def _wait_cleanup(s: Server, attachment_id: str, timeout: float = 15.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = await _row(s, attachment_id)
        if row["cleanup_status"] in ("done", "failed"):
            return row
        assert loop.time() < deadline, "the cleanup did not finish"
        await asyncio.sleep(0.05)


def _hex(value: Any) -> str:
    return str(value).replace("-", "").lower()


async def _row(s: Server, attachment_id: str) -> dict[str, Any]:
    return dict(
        next(r for r in await s.db.fetch("SELECT * FROM attachments") if _hex(r["id"]) == _hex(attachment_id))
    )


def _problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    return body


async def test_a_document_is_uploaded_indexed_and_readable(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    files_before = len(_mock_calls(s, "POST", "/v1/files"))
    stores_before = len(_mock_calls(s, "POST", "/v1/vector_stores"))
    resp = await _upload(s, chat, "notes.md", b"# Notes\nThe launch code word is heron.", "text/markdown")
    assert resp.status_code == 201, resp.text
    detail = resp.json()
    assert detail["status"] == "ready"
    assert (detail["kind"], detail["content_type"], detail["filename"]) == (
        "document",
        "text/markdown",
        "notes.md",
    )
    assert detail["size_bytes"] == len(b"# Notes\nThe launch code word is heron.")
    assert detail["error_code"] is None
    assert detail["doc_summary"] is None
    assert resp.headers["location"].endswith(f"/attachments/{detail['id']}")
    got = await s.http.get(f"{_path(chat)}/{detail['id']}", headers=AUTH)
    assert got.status_code == 200
    assert got.json() == detail

    (upload,) = _mock_calls(s, "POST", "/v1/files")[files_before:]
    parts = {p["name"]: p for p in upload["multipart"]}
    assert (
        parts["file"]["filename"] == f"{chat.replace('-', '')}_{detail['id'].replace('-', '')}.md"
    )  # CI-12.1
    assert parts["file"]["content_type"] == "text/markdown"
    assert "notes.md" not in str(upload)  # the original name stays with fabrikit
    calls = _mock_calls(s, "POST", "/v1/vector_stores")[stores_before:]
    assert [c["path"] == "/v1/vector_stores" for c in calls] == [True, False]  # created, then the file added
    added = calls[1]
    assert added["json"]["attributes"] == {"attachment_id": detail["id"]}

    # A second document of the chat joins the same vector store: no second store is created.
    def creations() -> int:
        return len(
            [r for r in _mock_calls(s, "POST", "/v1/vector_stores") if r["path"] == "/v1/vector_stores"]
        )

    stores = creations()
    second = await _upload(s, chat, "more.txt", b"heron again", "text/plain")
    assert second.json()["status"] == "ready"
    assert creations() == stores
    adds = [r for r in _mock_calls(s, "POST", "/v1/vector_stores/") if r["path"].endswith("/files")]
    assert adds[-1]["path"] == added["path"]  # the same store


async def test_a_message_searches_the_chats_documents_and_cites_them(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    doc = (await _upload(s, chat, "facts.txt", b"The answer is 42.", "text/plain")).json()
    assert doc["status"] == "ready"
    stream = await s.stream(chat, "what is the answer? [[mock:lorem=4]]", attachment_ids=[doc["id"]])
    assert stream.names[-1] == "done", stream.events
    (call,) = [c for c in s.provider_calls() if "what is the answer?" in str(c["json"].get("input"))]
    tools = [t for t in call["json"].get("tools", []) if t["type"] == "file_search"]
    assert len(tools) == 1
    assert len(tools[0]["vector_store_ids"]) == 1
    cited = [i for i in stream.one("citations")["items"] if i["source"] == "file"]
    assert cited
    assert {(i["attachment_id"], i["title"]) for i in cited} == {(doc["id"], "facts.txt")}
    assert_no_provider_ids(stream)
    # Linked to a live message: locked (C-13.8).
    locked = await s.http.delete(f"{_path(chat)}/{doc['id']}", headers=AUTH)
    _problem(locked, 409, "attachment_locked")


async def test_images_and_spreadsheets_skip_the_vector_store(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    before = len(_mock_calls(s, "POST", "/v1/vector_stores"))
    image = await _upload(s, chat, "photo.png", PNG, "image/png")
    assert (image.json()["status"], image.json()["kind"]) == ("ready", "image")
    assert image.json()["img_thumbnail"] is None  # not decodable: no thumbnail, the upload stands
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = await _upload(s, chat, "table.xlsx", b"PK\x03\x04 not really", xlsx)
    assert (sheet.json()["status"], sheet.json()["kind"]) == ("ready", "document")
    assert len(_mock_calls(s, "POST", "/v1/vector_stores")) == before
    # octet-stream is read from the extension; CSV becomes plain text (C-13.2)
    by_ext = await _upload(s, chat, "data.csv", b"a,b\n1,2\n", "application/octet-stream")
    assert by_ext.json()["content_type"] == "text/plain"


async def test_an_image_gets_a_webp_thumbnail(server: Server) -> None:
    """C-13.9: within 128×128, aspect kept, WebP, in the upload's answer and on read."""
    s = server
    chat = await s.chat("gpt-4.1")
    out = io.BytesIO()
    Image.new("RGB", (300, 150), (10, 120, 200)).save(out, "PNG")
    detail = (await _upload(s, chat, "wide.png", out.getvalue(), "image/png")).json()
    thumb = detail["img_thumbnail"]
    assert (thumb["content_type"], thumb["width"], thumb["height"]) == ("image/webp", 128, 64)
    with Image.open(io.BytesIO(base64.b64decode(thumb["data_base64"]))) as decoded:
        assert (decoded.format, decoded.size) == ("WEBP", (128, 64))
    again = await s.http.get(f"{_path(chat)}/{detail['id']}", headers=AUTH)
    assert again.json()["img_thumbnail"] == thumb


async def test_refusals_in_order(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    # Above the route's limit (the largest cap, 1 MiB here, plus 64 KiB of framing) the gateway refuses it unread,
    # even for a chat that does not exist.
    missing = "00000000-0000-7000-8000-000000000001"
    huge = await _upload(s, missing, "big.txt", b"x" * (1024 * 1024 + 65 * 1024), "text/plain")
    _problem(huge, 413, "payload_too_large")
    _problem(await _upload(s, missing, "a.txt", b"x", "text/plain"), 404, "chat_not_found")
    other = await s.http.post(
        _path(chat),
        files={"file": ("a.txt", b"x", "text/plain")},
        headers={"Authorization": "Bearer other-user"},
    )
    _problem(other, 404, "chat_not_found")  # another user's chat does not exist for them
    # The chat is looked up before the body is judged: a bad body to a missing chat is still a 404.
    bad_body_no_chat = await s.http.post(_path(missing), json={"file": "x"}, headers=AUTH)
    _problem(bad_body_no_chat, 404, "chat_not_found")
    not_multipart = await s.http.post(_path(chat), json={"file": "x"}, headers=AUTH)
    _problem(not_multipart, 400, "validation_error")
    no_file = await s.http.post(_path(chat), files={"other": ("a.txt", b"x", "text/plain")}, headers=AUTH)
    _problem(no_file, 400, "validation_error")
    _problem(await _upload(s, chat, "anim.gif", b"GIF89a", "image/gif"), 415, "unsupported_file_type")
    # Declared too large: refused before the body is read (C-13.3).
    _problem(await _upload(s, chat, "big.png", b"\0" * (200 * 1024), "image/png"), 413, "file_too_large")

    async def chunked() -> AsyncIterator[bytes]:
        boundary = b"bnd"
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n"
        for _ in range(100):
            yield b"\0" * 1024
        yield b"\r\n--" + boundary + b"--\r\n"

    # No Content-Length: the exact count while reading refuses it.
    streamed = await s.http.post(
        _path(chat), content=chunked(), headers={**AUTH, "content-type": "multipart/form-data; boundary=bnd"}
    )
    _problem(streamed, 413, "file_too_large")
    tiny = await s.chat("gpt-4.1-mini-tiny-ctx")  # no code interpreter
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    _problem(await _upload(s, tiny, "t.xlsx", b"PK", xlsx), 422, "code_interpreter_unavailable")


async def test_per_chat_limits(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    for i in range(3):
        assert (await _upload(s, chat, f"d{i}.txt", b"doc", "text/plain")).status_code == 201
    _problem(await _upload(s, chat, "d3.txt", b"doc", "text/plain"), 400, "document_limit_exceeded")
    full = await s.chat("gpt-4.1")
    big = b"x" * (900 * 1024)
    assert (await _upload(s, full, "a.txt", big, "text/plain")).status_code == 201
    assert (await _upload(s, full, "b.txt", big, "text/plain")).status_code == 201
    _problem(await _upload(s, full, "c.txt", big, "text/plain"), 400, "storage_limit_exceeded")


async def test_indexing_failure_marks_the_attachment_failed_and_removes_the_file(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    script = {"directives": "vs_file_status=failed", "match": {"path_prefix": "/v1/vector_stores/"}}
    assert (await s.http.post(f"{s.mock.base_url}/_mock/script", json={"items": [script]})).status_code == 204
    resp = await _upload(s, chat, "bad.txt", b"unindexable", "text/plain")
    assert resp.status_code == 201, resp.text
    detail = resp.json()
    assert (detail["status"], detail["error_code"]) == ("failed", "indexing_failed")
    deleted = _mock_calls(s, "DELETE", "/v1/files/")
    assert deleted  # the provider file did not stay behind
    # A failed attachment cannot be sent (C-13.8).
    refused = await s.stream(chat, "use it", attachment_ids=[detail["id"]])
    assert refused.code == "invalid_attachment"


async def test_delete_is_soft_idempotent_and_hides_the_attachment(server: Server) -> None:
    s = server
    chat = await s.chat("gpt-4.1")
    doc = (await _upload(s, chat, "gone.txt", b"bye", "text/plain")).json()
    url = f"{_path(chat)}/{doc['id']}"
    assert (await s.http.delete(url, headers=AUTH)).status_code == 204
    assert (await s.http.delete(url, headers=AUTH)).status_code == 204
    _problem(await s.http.get(url, headers=AUTH), 404, "attachment_not_found")
    _problem(
        await s.http.delete(f"{_path(chat)}/00000000-0000-7000-8000-000000000002", headers=AUTH),
        404,
        "attachment_not_found",
    )
    row = await _row(s, doc["id"])
    assert row["deleted_at"] is not None
    assert row["cleanup_status"] in ("pending", "done")


async def test_a_deleted_document_leaves_its_vector_store_and_the_provider(server: Server) -> None:
    """CI-12.3/12.4: soft delete, then the outbox handler removes the file from the store and the provider."""
    s = server
    chat = await s.chat("gpt-4.1")
    doc = (await _upload(s, chat, "old.txt", b"outdated", "text/plain")).json()
    file_id = (await _row(s, doc["id"]))["provider_file_id"]
    assert (await s.http.delete(f"{_path(chat)}/{doc['id']}", headers=AUTH)).status_code == 204
    done = await _wait_cleanup(s, doc["id"])
    assert done["cleanup_status"] == "done"
    deletes = [r["path"] for r in s.mock.requests() if r["method"] == "DELETE"]
    assert any(
        p.endswith(f"/files/{file_id}") and "/vector_stores/" in p for p in deletes
    )  # out of the store
    assert f"/v1/files/{file_id}" in deletes  # and gone from the provider


async def test_a_deleted_chat_takes_its_files_and_vector_store_along(server: Server) -> None:
    """CI-12.5: every file of the chat, then its vector store, then its row."""
    s = server
    chat = await s.chat("gpt-4.1")
    doc = (await _upload(s, chat, "a.txt", b"alpha", "text/plain")).json()
    image = (await _upload(s, chat, "b.png", PNG, "image/png")).json()
    stores = [
        r for r in await s.db.fetch("SELECT * FROM chat_vector_stores") if _hex(r["chat_id"]) == _hex(chat)
    ]
    store_id = stores[0]["vector_store_id"]
    assert (await s.http.delete(f"{BASE}/chats/{chat}", headers=AUTH)).status_code == 204
    for attachment in (doc, image):
        assert (await _wait_cleanup(s, attachment["id"]))["cleanup_status"] == "done"
    for _ in range(300):
        left = [
            r
            for r in await s.db.fetch("SELECT * FROM chat_vector_stores")
            if _hex(r["chat_id"]) == _hex(chat)
        ]
        if not left:
            break
        await asyncio.sleep(0.05)
    assert left == []
    assert f"/v1/vector_stores/{store_id}" in [
        r["path"] for r in s.mock.requests() if r["method"] == "DELETE"
    ]
