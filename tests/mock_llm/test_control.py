"""Recording, inspection and control (M-8), auth, errors (M-3.1) and directive precedence (M-4.1)."""

from __future__ import annotations

import httpx
import pytest

from fabrikit.modules.mock_llm import MockLlmServer
from fabrikit.modules.mock_llm.recorder import ScriptEntry

from .sse import chat_body, chat_text, read_events, responses_body, text_of


async def test_requests_are_recorded(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    await read_events(
        client, "/v1/responses", responses_body("hi [[mock:lorem=3]]", extra_field=1), params={"q": "1"}
    )
    await client.post(
        "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]}
    )
    listing = (await client.get("/_mock/requests")).json()["items"]
    assert [item["path"] for item in listing] == ["/v1/responses", "/v1/chat/completions"]
    first = listing[0]
    assert first["seq"] < listing[1]["seq"]
    assert first["method"] == "POST"
    assert first["query"] == {"q": "1"}
    assert first["json"]["extra_field"] == 1  # unknown fields are ignored but recorded
    assert first["body_bytes"] > 0
    assert first["directives"] == {"lorem": 3}
    assert first["outcome"] == {
        "status": 200,
        "events_sent": 3 + 8,
        "terminal": "response.completed",
        "disconnected": False,
    }
    last = (await client.get("/_mock/requests/last")).json()
    assert last["path"] == "/v1/chat/completions"
    assert last["outcome"]["terminal"] == "stop"
    filtered = (await client.get("/_mock/requests", params={"path_prefix": "/v1/chat"})).json()["items"]
    assert [item["path"] for item in filtered] == ["/v1/chat/completions"]
    limited = (await client.get("/_mock/requests", params={"limit": "1"})).json()["items"]
    assert [item["path"] for item in limited] == ["/v1/chat/completions"]
    assert mock_llm.requests() == (await client.get("/_mock/requests")).json()["items"]
    assert (await client.delete("/_mock/requests")).status_code == 204
    assert (await client.get("/_mock/requests")).json() == {"items": []}
    assert (await client.get("/_mock/requests/last")).status_code == 404


async def test_body_cap(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with (
        make_mock(record_body_max_bytes=100) as mock,
        httpx.AsyncClient(base_url=mock.base_url) as http,
    ):
        await http.post("/v1/responses", json={"model": "m", "input": "x" * 500})
        record = mock.requests()[-1]
        assert record["json"] is None
        assert record["json_truncated"] is True
        assert record["body_bytes"] > 500


async def test_record_limit_ring(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with make_mock(record_limit=3) as mock, httpx.AsyncClient(base_url=mock.base_url) as http:
        for _ in range(5):
            await http.get("/v1/models")
        assert [r["seq"] for r in mock.requests()] == [3, 4, 5]


async def test_script_fifo_with_times(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    response = await client.post(
        "/_mock/script",
        json={
            "items": [
                {
                    "directives": "",
                    "text": "scripted one",
                    "times": 2,
                    "match": {"path_prefix": "/v1/responses"},
                },
                {"directives": "lorem=2", "match": {"method": "POST"}},
            ]
        },
    )
    assert response.status_code == 204
    texts = []
    for _ in range(4):
        texts.append(text_of(await read_events(client, "/v1/responses", responses_body("echo me"))))
    assert texts == ["scripted one", "scripted one", "lorem ipsum", "echo me"]
    assert mock_llm.requests()[0]["directives"] == {"text": "scripted one"}


async def test_script_match_skips_other_requests(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    mock_llm.script(
        [
            ScriptEntry(directives="lorem=1", match=None),
            {"directives": "lorem=3", "match": {"path_prefix": "/v1/chat"}},
        ]
    )
    await client.get("/v1/models")  # consumes the unmatched first entry
    events = await read_events(client, "/v1/chat/completions", chat_body("x"))
    assert chat_text(events) == "lorem ipsum dolor"


async def test_script_rejects_bad_directives(client: httpx.AsyncClient) -> None:
    bad = await client.post("/_mock/script", json={"items": [{"directives": "nope=1"}]})
    assert bad.status_code == 400
    assert (await client.post("/_mock/script", json={"items": [{"times": 0}]})).status_code == 400


async def test_reset_clears_everything(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    file_id = (await client.post("/v1/files", files={"file": ("a", b"x")}, data={"purpose": "p"})).json()[
        "id"
    ]
    store_id = (await client.post("/v1/vector_stores", json={})).json()["id"]
    mock_llm.script([{"directives": "lorem=9"}])
    assert (await client.post("/_mock/reset")).status_code == 204
    assert mock_llm.requests() == []
    assert (await client.get(f"/v1/files/{file_id}")).status_code == 404
    assert (await client.get(f"/v1/vector_stores/{store_id}")).status_code == 404
    events = await read_events(client, "/v1/responses", responses_body("plain"))
    assert text_of(events) == "plain"
    mock_llm.reset()
    assert mock_llm.requests() == []


async def test_health_and_stats(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_mock/health")).json() == {"status": "ok"}
    await read_events(client, "/v1/responses", responses_body("[[mock:lorem=4]]"))
    stats = (await client.get("/_mock/stats")).json()
    assert stats == {"requests": 1, "open_streams": 0, "events_sent": 4 + 8, "disconnects": 0}


async def test_precedence_default_model_message_script(make_mock) -> None:  # type: ignore[no-untyped-def]
    config = {"default_directives": "lorem=1", "models": {"mock-two": "lorem=2"}}
    async with make_mock(**config) as mock, httpx.AsyncClient(base_url=mock.base_url) as http:
        assert text_of(await read_events(http, "/v1/responses", responses_body("x"))) == "lorem"
        body = responses_body("x", model="mock-two")
        assert text_of(await read_events(http, "/v1/responses", body)) == "lorem ipsum"
        body = responses_body("x [[mock:lorem=3]]", model="mock-two")
        assert len(text_of(await read_events(http, "/v1/responses", body)).split()) == 3
        mock.script([{"directives": "lorem=4"}])
        assert len(text_of(await read_events(http, "/v1/responses", body)).split()) == 4
        models = (await http.get("/v1/models")).json()
        assert [m["id"] for m in models["data"]] == ["mock-two", "mock"]


async def test_error_status_and_retry_after(client: httpx.AsyncClient) -> None:
    limited = await client.post("/v1/responses", json=responses_body("[[mock:error=429]]"))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert set(limited.json()["error"]) == {"message", "type", "param", "code"}
    failed = await client.post("/v1/chat/completions", json=chat_body("[[mock:error=503]]"))
    assert failed.status_code == 503
    assert "retry-after" not in failed.headers
    assert failed.json()["error"]["type"] == "server_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": "x [[mock:bogus]]"}, "input"),
        ({"model": "m", "input": "x [[mock:lorem=abc]]"}, "input"),
        ({"model": "m", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
    ],
)
async def test_bad_requests_are_400(client: httpx.AsyncClient, body: dict, param: str) -> None:  # type: ignore[type-arg]
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert error["message"]


async def test_chat_needs_messages(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/chat/completions", json={"model": "m"})).status_code == 400
    assert (await client.post("/v1/chat/completions", content=b"not json")).status_code == 400


async def test_unknown_path_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing")
    assert response.status_code == 404
    assert "error" in response.json()


async def test_expected_api_key(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with (
        make_mock(expected_api_key="sk-mock") as mock,
        httpx.AsyncClient(base_url=mock.base_url) as http,
    ):
        body = {"model": "m", "input": "x"}
        missing = await http.post("/v1/responses", json=body)
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "invalid_api_key"
        wrong = await http.post("/v1/responses", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        bearer = await http.post("/v1/responses", json=body, headers={"Authorization": "Bearer sk-mock"})
        assert bearer.status_code == 200
        api_key = await http.post("/v1/responses", json=body, headers={"api-key": "sk-mock"})
        assert api_key.status_code == 200
        assert (await http.get("/_mock/health")).status_code == 200  # control paths need no auth
        assert mock.requests()[-1]["headers"]["api-key"] == "sk-mock"
        assert "sk-mock" not in repr(mock.config)


async def test_azure_paths(client: httpx.AsyncClient) -> None:
    body = {"messages": [{"role": "user", "content": "hello azure"}]}
    no_version = await client.post("/openai/deployments/gpt/chat/completions", json=body)
    assert no_version.status_code == 400
    assert no_version.json()["error"]["param"] == "api-version"
    ok = await client.post(
        "/openai/deployments/gpt/chat/completions", json=body, params={"api-version": "2024-10-21"}
    )
    assert ok.status_code == 200
    assert ok.json()["model"] == "gpt"
    assert ok.json()["choices"][0]["message"]["content"] == "hello azure"
    events = await read_events(
        client,
        "/openai/deployments/gpt/responses",
        {"input": "az", "stream": True},
        params={"api-version": "v1"},
    )
    assert text_of(events) == "az"
    uploaded = await client.post(
        "/openai/files", files={"file": ("a", b"x")}, data={"purpose": "p"}, params={"api-version": "v1"}
    )
    assert uploaded.status_code == 200
    store = await client.post("/openai/vector_stores", json={}, params={"api-version": "v1"})
    assert store.json()["object"] == "vector_store"
