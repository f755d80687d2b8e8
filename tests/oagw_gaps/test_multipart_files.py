"""Multipart through the real gateway into mock-llm's Files API (G-9.3, M-7.1, G-21 "Multipart buffered and
streamed arrive intact at the mock Files API"): mock-llm records size and SHA-256 of every part."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.mock_llm.server import MockLlmServer
from fabrikit.modules.mock_llm.testing import mock_llm  # noqa: F401  (fixture)
from fabrikit.modules.oagw.sdk import (
    APIKEY_AUTH_ID,
    HTTP_PROTOCOL_ID,
    AuthConfig,
    Endpoint,
    HttpMatch,
    Multipart,
    OagwClient,
    RouteMatch,
    RouteSpec,
    Server,
    UpstreamSpec,
)
from tests.oagw_engine.harness import AUTH, CTX, SECRET_VALUE

from .harness import gaps_runtime

pytestmark = pytest.mark.timeout(60)
CHUNK = 64 * 1024


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


async def pieces(data: bytes, step: int = CHUNK) -> AsyncIterator[bytes]:
    for start in range(0, len(data), step):
        yield data[start : start + step]
        yield b""  # empty chunks must not end the body (G-16.5)


async def provision(h: RuntimeHarness, mock: MockLlmServer) -> OagwClient:
    client: OagwClient = h.hub.get(OagwClient)  # type: ignore[type-abstract]
    upstream = await client.create_upstream(
        CTX,
        UpstreamSpec(
            server=Server(endpoints=[Endpoint(host="127.0.0.1", scheme="http", port=mock.port)]),
            protocol=HTTP_PROTOCOL_ID,
            alias="openai",
            auth=AuthConfig(
                type=APIKEY_AUTH_ID,
                config={"header": "authorization", "prefix": "Bearer ", "secret_ref": "cred://api-key"},
            ),
        ),
    )
    match = RouteMatch(http=HttpMatch(methods=["POST"], path="/v1/files"))
    await client.create_route(CTX, RouteSpec(upstream_id=upstream.id, match=match))
    return client


def last_upload(mock: MockLlmServer) -> dict[str, Any]:
    records = mock.requests(path_prefix="/v1/files")
    assert records, "mock-llm saw no upload"
    return records[-1]


def part(record: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in record["multipart"] if p["name"] == name)


def header(record: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in record["headers"].items() if k.lower() == name), None)


async def test_buffered_form_arrives_intact(mock_llm: MockLlmServer) -> None:  # noqa: F811
    data = payload(300_000, 1)
    async with gaps_runtime() as h:
        client = await provision(h, mock_llm)
        form = Multipart().text("purpose", "assistants").bytes("file", data, filename="notes.jsonl")
        async with await client.proxy_request(CTX, form.into_request("POST", "openai", "/v1/files")) as resp:
            assert resp.status == 200
            created = (await resp.read()).decode()
        record = last_upload(mock_llm)
        uploaded = part(record, "file")
        assert uploaded["size"] == len(data)
        assert uploaded["sha256"] == hashlib.sha256(data).hexdigest()
        assert uploaded["filename"] == "notes.jsonl"
        assert header(record, "content-length") is not None
        assert header(record, "transfer-encoding") is None
        assert header(record, "authorization") == f"Bearer {SECRET_VALUE}"
        assert '"bytes":300000' in created.replace(" ", "")


async def test_streamed_form_arrives_intact_and_chunked(mock_llm: MockLlmServer) -> None:  # noqa: F811
    data = payload(3 * 1024 * 1024 + 17, 2)  # more than the 1 MiB the mock keeps: the hash covers it all
    async with gaps_runtime() as h:
        client = await provision(h, mock_llm)
        form = Multipart().text("purpose", "assistants").stream("file", pieces(data), filename="big.bin")
        async with await client.proxy_request(CTX, form.into_request("POST", "openai", "/v1/files")) as resp:
            assert resp.status == 200, await resp.read()
            await resp.read()
        record = last_upload(mock_llm)
        uploaded = part(record, "file")
        assert uploaded["size"] == len(data)
        assert uploaded["sha256"] == hashlib.sha256(data).hexdigest()
        assert header(record, "transfer-encoding") == "chunked"
        assert part(record, "purpose")["size"] == len(b"assistants")


async def test_names_and_filenames_with_cr_lf_and_quotes_are_escaped(mock_llm: MockLlmServer) -> None:  # noqa: F811
    data = b"x" * 1000
    async with gaps_runtime() as h:
        client = await provision(h, mock_llm)
        form = (
            Multipart()
            .text('pur"pose\r\n', "ignored")
            .text("purpose", "assistants")
            .bytes("file", data, filename='my "report"\r\n.txt', content_type="text/plain")
        )
        async with await client.proxy_request(CTX, form.into_request("POST", "openai", "/v1/files")) as resp:
            assert resp.status == 200
            await resp.read()
        record = last_upload(mock_llm)
        names = [p["name"] for p in record["multipart"]]
        # Three parts, not more: CR/LF could not inject headers or split the part.
        assert names == ['pur"pose', "purpose", "file"]
        uploaded = part(record, "file")
        assert uploaded["filename"] == 'my "report".txt'
        assert uploaded["sha256"] == hashlib.sha256(data).hexdigest()


async def test_streamed_form_through_the_rest_proxy(mock_llm: MockLlmServer) -> None:  # noqa: F811
    data = payload(2 * 1024 * 1024, 3)
    async with gaps_runtime() as h:
        await provision(h, mock_llm)
        form = Multipart().text("purpose", "assistants").stream("file", pieces(data), filename="r.bin")

        async with httpx.AsyncClient(base_url=h.base_url, timeout=30) as http:
            resp = await http.post(
                "/oagw/v1/proxy/openai/v1/files",
                content=form.iter_bytes(),
                headers={**AUTH, "Content-Type": form.content_type},
            )
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-oagw-error-source"] == "upstream"
        uploaded = part(last_upload(mock_llm), "file")
        assert uploaded["size"] == len(data)
        assert uploaded["sha256"] == hashlib.sha256(data).hexdigest()
