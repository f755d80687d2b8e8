"""Tool calls and citations (M-4.4, M-5.2 step 2 and 5)."""

from __future__ import annotations

import httpx

from fabrikit.modules.mock_llm import MockLlmServer

from .sse import check_responses_stream, read_events, responses_body, text_of


async def _store_with_files(client: httpx.AsyncClient, names: list[str]) -> tuple[str, list[str]]:
    ids = []
    for name in names:
        uploaded = await client.post(
            "/v1/files",
            files={"file": (name, b"content of " + name.encode())},
            data={"purpose": "assistants"},
        )
        ids.append(uploaded.json()["id"])
    store = await client.post("/v1/vector_stores", json={"name": "docs", "file_ids": ids})
    return store.json()["id"], ids


def _tool_block(events: list, kind: str, prefix: str, work: str) -> None:  # type: ignore[type-arg]
    names = [e.name for e in events]
    start = names.index("response.output_item.added")
    assert names[start : start + 5] == [
        "response.output_item.added",
        f"response.{kind}_call.in_progress",
        f"response.{kind}_call.{work}",
        f"response.{kind}_call.completed",
        "response.output_item.done",
    ]
    item = events[start].data["item"]
    assert item["type"] == f"{kind}_call"
    assert item["id"].startswith(prefix)
    for event in events[start + 1 : start + 4]:
        assert event.data["item_id"] == item["id"]
        assert event.data["output_index"] == 0


async def test_file_search_runs_once_and_cites_store_files(client: httpx.AsyncClient) -> None:
    store_id, file_ids = await _store_with_files(client, ["a.txt", "b.txt", "c.txt"])
    tools = [{"type": "file_search", "vector_store_ids": [store_id]}]
    events = await read_events(client, "/v1/responses", responses_body("find it", tools=tools))
    check_responses_stream(events)
    _tool_block(events, "file_search", "fs_", "searching")
    names = [e.name for e in events]
    assert names[7:9] == ["response.output_item.added", "response.content_part.added"]
    annotations = [e.data for e in events if e.name == "response.output_text.annotation.added"]
    assert [a["annotation"]["file_id"] for a in annotations] == file_ids[:2]  # max_num_results default 2
    assert [a["annotation_index"] for a in annotations] == [0, 1]
    assert annotations[0]["annotation"] == {
        "type": "file_citation",
        "file_id": file_ids[0],
        "filename": "a.txt",
        "index": len("find it"),
    }
    first_done = names.index("response.output_text.done")
    assert all(names.index("response.output_text.annotation.added") < first_done for _ in annotations)
    assert names.index("response.output_text.annotation.added") > max(
        i for i, n in enumerate(names) if n == "response.output_text.delta"
    )
    final = events[-1].data["response"]
    assert [item["type"] for item in final["output"]] == ["file_search_call", "message"]
    assert len(final["output"][1]["content"][0]["annotations"]) == 2


async def test_file_search_max_num_results(client: httpx.AsyncClient) -> None:
    store_id, file_ids = await _store_with_files(client, ["a.txt", "b.txt", "c.txt"])
    tools = [{"type": "file_search", "vector_store_ids": [store_id], "max_num_results": 3}]
    events = await read_events(client, "/v1/responses", responses_body("q", tools=tools))
    cited = [
        e.data["annotation"]["file_id"] for e in events if e.name == "response.output_text.annotation.added"
    ]
    assert cited == file_ids


async def test_web_search_count_and_url_citations(client: httpx.AsyncClient) -> None:
    body = responses_body("news [[mock:tools=web_search:3]]", tools=[{"type": "web_search"}])
    events = await read_events(client, "/v1/responses", body)
    check_responses_stream(events)
    added = [e.data["item"] for e in events if e.name == "response.output_item.added"]
    assert [a["type"] for a in added] == ["web_search_call"] * 3 + ["message"]
    assert all(a["id"].startswith("ws_") for a in added[:3])
    annotations = [e.data["annotation"] for e in events if e.name == "response.output_text.annotation.added"]
    assert annotations == [
        {
            "type": "url_citation",
            "url": f"https://example.com/mock/search/{n}",
            "title": f"Mock result {n}",
            "start_index": 0,
            "end_index": len("news"),
        }
        for n in (1, 2, 3)
    ]
    message_added = next(e for e in events if e.name == "response.content_part.added")
    assert message_added.data["output_index"] == 3


async def test_code_interpreter_logs(client: httpx.AsyncClient) -> None:
    events = await read_events(
        client, "/v1/responses", responses_body("run", tools=[{"type": "code_interpreter"}])
    )
    _tool_block(events, "code_interpreter", "ci_", "interpreting")
    done = next(e for e in events if e.name == "response.output_item.done").data["item"]
    assert done["status"] == "completed"
    assert done["outputs"] == [{"type": "logs", "logs": "mock output"}]


async def test_tools_only_for_declared_types(client: httpx.AsyncClient) -> None:
    events = await read_events(
        client, "/v1/responses", responses_body("x [[mock:tools=web_search+code_interpreter]]")
    )
    assert [e.name for e in events][2] == "response.output_item.added"
    assert not any("_call" in e.name for e in events)


async def test_tools_none_and_citations_none(client: httpx.AsyncClient) -> None:
    tools = [{"type": "web_search"}]
    events = await read_events(client, "/v1/responses", responses_body("x [[mock:tools=none]]", tools=tools))
    assert not any("web_search_call" in e.name for e in events)
    events = await read_events(
        client, "/v1/responses", responses_body("x [[mock:citations=none]]", tools=tools)
    )
    assert any("web_search_call" in e.name for e in events)
    assert not any(e.name == "response.output_text.annotation.added" for e in events)
    assert text_of(events) == "x"


async def test_auto_tools_off(make_mock) -> None:  # type: ignore[no-untyped-def]
    async with make_mock(auto_tools=False) as mock, httpx.AsyncClient(base_url=mock.base_url) as http:
        mock: MockLlmServer  # type: ignore[no-redef]
        tools = [{"type": "web_search"}]
        events = await read_events(http, "/v1/responses", responses_body("x", tools=tools))
        assert not any("web_search_call" in e.name for e in events)
        events = await read_events(
            http, "/v1/responses", responses_body("x [[mock:tools=web_search]]", tools=tools)
        )
        assert any("web_search_call" in e.name for e in events)


async def test_function_call_in_responses(client: httpx.AsyncClient) -> None:
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    events = await read_events(
        client, "/v1/responses", responses_body("q1 [[mock:tools=function]]", tools=tools)
    )
    check_responses_stream(events)
    item = events[2].data["item"]
    assert item["type"] == "function_call"
    assert item["name"] == "lookup"
    args = "".join(e.data["delta"] for e in events if e.name == "response.function_call_arguments.delta")
    assert args == '{"input":"q1"}'
    done = next(e for e in events if e.name == "response.function_call_arguments.done")
    assert done.data["arguments"] == args
