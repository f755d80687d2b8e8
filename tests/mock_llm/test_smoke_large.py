"""M-9.1 smoke: a 100 000-word stream arrives whole and well-formed (speed is measured in bench/)."""

from __future__ import annotations

import httpx

from fabrikit.modules.mock_llm import MockLlmServer
from fabrikit.modules.mock_llm.plan import LOREM_WORDS

from .sse import check_responses_stream, read_events, responses_body, text_of

WORDS = 100_000


async def test_lorem_100000_arrives_whole(client: httpx.AsyncClient, mock_llm: MockLlmServer) -> None:
    events = await read_events(client, "/v1/responses", responses_body(f"[[mock:lorem={WORDS}]]"))
    check_responses_stream(events)
    assert len(events) == WORDS + 8
    text = text_of(events)
    words = text.split(" ")
    assert len(words) == WORDS
    assert all(word == LOREM_WORDS[i % len(LOREM_WORDS)] for i, word in enumerate(words))
    final = events[-1].data["response"]
    assert final["status"] == "completed"
    assert final["usage"]["output_tokens"] == WORDS
    assert final["output"][0]["content"][0]["text"] == text
    assert mock_llm.requests()[-1]["outcome"]["events_sent"] == WORDS + 8
