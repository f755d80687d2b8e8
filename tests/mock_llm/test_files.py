"""Files and vector stores (M-7)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import httpx

from fabrikit.modules.mock_llm import MockLlmServer

BOUNDARY = "mockboundary7MA4YWxkTrZu0gW"


async def _chunked_multipart(payload: bytes, filename: str, chunk: int = 100_000) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    for start in range(0, len(payload), chunk):
        yield payload[start : start + chunk]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_chunked_upload_is_hashed_whole(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    response = await client.post(
        "/v1/files",
        content=_chunked_multipart(payload, "big.pdf"),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 200, response.text
    record = mock_llm.requests(path_prefix="/v1/files")[-1]
    assert record["headers"].get("Transfer-Encoding") == "chunked"
    body = response.json()
    assert body["object"] == "file"
    assert body["id"].startswith("file-")
    assert body["bytes"] == len(payload)
    assert body["filename"] == "big.pdf"
    assert body["purpose"] == "assistants"
    assert body["status"] == "processed"
    assert isinstance(body["created_at"], int)
    parts = {part["name"]: part for part in record["multipart"]}
    assert parts["file"] == {
        "name": "file",
        "filename": "big.pdf",
        "content_type": "application/pdf",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    kept = await client.get(f"/v1/files/{body['id']}/content")
    assert kept.content == payload[: 1024 * 1024]


async def test_content_length_upload_get_delete(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    response = await client.post(
        "/v1/files", files={"file": ("a.txt", b"hello")}, data={"purpose": "user_data"}
    )
    file_id = response.json()["id"]
    record = mock_llm.requests(path_prefix="/v1/files")[-1]
    assert "Content-Length" in record["headers"]
    assert record["multipart"][-1]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    fetched = await client.get(f"/v1/files/{file_id}")
    assert fetched.json() == response.json()
    deleted = await client.delete(f"/v1/files/{file_id}")
    assert deleted.json() == {"id": file_id, "object": "file", "deleted": True}
    missing = await client.get(f"/v1/files/{file_id}")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    assert (await client.delete(f"/v1/files/{file_id}")).status_code == 404


async def test_upload_needs_file_and_purpose(client: httpx.AsyncClient) -> None:
    no_purpose = await client.post("/v1/files", files={"file": ("a.txt", b"x")})
    assert no_purpose.status_code == 400
    assert no_purpose.json()["error"]["param"] == "purpose"
    no_file = await client.post("/v1/files", files={"other": ("a.txt", b"x")}, data={"purpose": "x"})
    assert no_file.status_code == 400
    assert no_file.json()["error"]["param"] == "file"
    not_multipart = await client.post("/v1/files", json={"file": "x"})
    assert not_multipart.status_code == 400


async def test_upload_limit_413(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with make_mock(max_upload_bytes=1000) as mock, httpx.AsyncClient(base_url=mock.base_url) as http:
        response = await http.post("/v1/files", files={"file": ("a.bin", b"x" * 5000)}, data={"purpose": "p"})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "file_too_large"


async def _upload(client: httpx.AsyncClient, name: str, content: bytes = b"data") -> str:
    response = await client.post("/v1/files", files={"file": (name, content)}, data={"purpose": "assistants"})
    file_id: str = response.json()["id"]
    return file_id


async def test_vector_store_lifecycle(client: httpx.AsyncClient) -> None:
    f1 = await _upload(client, "one.txt", b"12345")
    created = await client.post(
        "/v1/vector_stores", json={"name": "kb", "file_ids": [f1], "metadata": {"k": "v"}}
    )
    store = created.json()
    assert store["id"].startswith("vs_")
    assert store["object"] == "vector_store"
    assert store["name"] == "kb"
    assert store["status"] == "completed"
    assert store["usage_bytes"] == 5
    assert store["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    f2 = await _upload(client, "two.txt")
    added = await client.post(
        f"/v1/vector_stores/{store['id']}/files", json={"file_id": f2, "attributes": {"a": 1}}
    )
    entry = added.json()
    assert entry == {
        "id": f2,
        "object": "vector_store.file",
        "vector_store_id": store["id"],
        "status": "completed",
        "attributes": {"a": 1},
        "created_at": entry["created_at"],
        "last_error": None,
    }
    assert (await client.get(f"/v1/vector_stores/{store['id']}/files/{f2}")).json() == entry
    assert (await client.get(f"/v1/vector_stores/{store['id']}")).json()["file_counts"]["total"] == 2
    removed = await client.delete(f"/v1/vector_stores/{store['id']}/files/{f2}")
    assert removed.json() == {"id": f2, "object": "vector_store.file.deleted", "deleted": True}
    assert (await client.get(f"/v1/vector_stores/{store['id']}/files/{f2}")).status_code == 404
    deleted = await client.delete(f"/v1/vector_stores/{store['id']}")
    assert deleted.json() == {"id": store["id"], "object": "vector_store.deleted", "deleted": True}
    assert (await client.get(f"/v1/vector_stores/{store['id']}")).status_code == 404
    assert (await client.delete(f"/v1/vector_stores/{store['id']}")).status_code == 404


async def test_vector_store_404s(client: httpx.AsyncClient) -> None:
    f1 = await _upload(client, "one.txt")
    assert (await client.post("/v1/vector_stores/vs_nope/files", json={"file_id": f1})).status_code == 404
    store = (await client.post("/v1/vector_stores", json={})).json()
    unknown_file = await client.post(f"/v1/vector_stores/{store['id']}/files", json={"file_id": "file-nope"})
    assert unknown_file.status_code == 404
    assert unknown_file.json()["error"]["type"] == "not_found_error"
    assert (await client.post("/v1/vector_stores", json={"file_ids": ["file-nope"]})).status_code == 404
    assert (await client.delete(f"/v1/vector_stores/{store['id']}/files/{f1}")).status_code == 404


async def test_vs_file_status_failed_by_script(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    f1 = await _upload(client, "bad.txt")
    store = (await client.post("/v1/vector_stores", json={})).json()
    mock_llm.script([{"directives": "vs_file_status=failed", "match": {"path_prefix": "/v1/vector_stores/"}}])
    entry = (await client.post(f"/v1/vector_stores/{store['id']}/files", json={"file_id": f1})).json()
    assert entry["status"] == "failed"
    assert entry["last_error"]["code"] == "server_error"
    counts = (await client.get(f"/v1/vector_stores/{store['id']}")).json()["file_counts"]
    assert counts["failed"] == 1
    assert counts["completed"] == 0


async def test_upload_error_by_script(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    mock_llm.script([{"directives": "error=503", "match": {"method": "POST", "path_prefix": "/v1/files"}}])
    failed = await client.post("/v1/files", files={"file": ("a", b"x")}, data={"purpose": "p"})
    assert failed.status_code == 503
    ok = await client.post("/v1/files", files={"file": ("a", b"x")}, data={"purpose": "p"})
    assert ok.status_code == 200
