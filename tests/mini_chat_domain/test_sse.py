"""C-9 payloads, framing and the grammar validator (C-9.3, CI-4.3)."""

from __future__ import annotations

import json
import re
from uuid import UUID

import msgspec
from hypothesis import given

from fabrikit.modules.mini_chat.domain.quota_status import QuotaWarning
from fabrikit.modules.mini_chat.domain.sse import (
    Citation,
    Citations,
    CompletionSignal,
    Delta,
    Done,
    ErrorEvent,
    Ping,
    SseGrammar,
    StreamStarted,
    ThreadSummaryApplied,
    ToolEvent,
    encode_event,
    is_valid_stream,
    stream_interrupted,
)
from tests.strategies.mini_chat import any_sse_names, valid_sse_names

_GRAMMAR = re.compile(r"^stream_started (ping )*((delta|tool) )*(citations )?(done|error) $")
RID = UUID("018f0000-0000-7000-8000-000000000001")


@given(valid_sse_names())
def test_valid_sequences_accepted(names: list[str]) -> None:
    assert is_valid_stream(names)


@given(any_sse_names)
def test_validator_agrees_with_regex(names: list[str]) -> None:
    assert is_valid_stream(names) == bool(_GRAMMAR.match("".join(n + " " for n in names)))


@given(any_sse_names)
def test_relay_filter_output_is_always_a_prefix_of_the_grammar(names: list[str]) -> None:
    grammar = SseGrammar()
    kept = [n for n in names if grammar.accept(n)]
    if grammar.finished:
        assert is_valid_stream(kept)
        assert not any(
            grammar.allows(n)
            for n in ["stream_started", "ping", "delta", "tool", "citations", "done", "error"]
        )
    else:
        completion = ["done"] if grammar.started else ["stream_started", "error"]
        assert is_valid_stream(kept + completion)


def test_rejections_leave_state_unchanged() -> None:
    g = SseGrammar()
    assert not g.accept("delta")  # before stream_started
    assert g.accept("stream_started")
    assert g.accept("ping")
    assert g.accept("delta")
    assert g.content_started
    assert not g.accept("ping")  # no ping after content
    assert g.accept("citations")
    assert not g.accept("delta")  # citations only after the last delta
    assert not g.accept("citations")
    assert g.accept("done")
    assert g.finished
    assert not g.accept("error")  # exactly one terminal


def test_payload_shapes() -> None:
    started = json.loads(
        encode_event(StreamStarted(request_id=RID, message_id=RID, is_new_turn=True)).split(b"data: ")[1]
    )
    assert started == {"request_id": str(RID), "message_id": str(RID), "is_new_turn": True}
    with_summary = StreamStarted(
        request_id=RID, message_id=RID, is_new_turn=True, thread_summary_applied=ThreadSummaryApplied(12)
    )
    assert b'"thread_summary_applied":{"token_estimate":12}' in encode_event(with_summary)
    assert encode_event(Ping()) == b"event: ping\ndata: {}\n\n"
    assert encode_event(Delta("text", "hi")) == b'event: delta\ndata: {"type":"text","content":"hi"}\n\n'
    assert encode_event(ToolEvent("start", "web_search")) == (
        b'event: tool\ndata: {"phase":"start","name":"web_search","details":{}}\n\n'
    )
    done = Done(usage=None, effective_model="a", selected_model="a", quota_decision="allow")
    assert json.loads(encode_event(done).split(b"data: ")[1]) == {
        "usage": None,
        "effective_model": "a",
        "selected_model": "a",
        "quota_decision": "allow",
    }
    full = Done(
        usage=None,
        effective_model="b",
        selected_model="a",
        quota_decision="downgrade",
        downgrade_from="a",
        downgrade_reason="model_disabled",
        quota_warnings=(
            QuotaWarning(
                tier="total",
                period="daily",
                remaining_percentage=5,
                warning=True,
                exhausted=False,
                next_reset="2027-01-01T00:00:00.000000Z",
            ),
        ),
        completion_signal=CompletionSignal("incomplete", "max_tokens"),
    )
    body = msgspec.json.decode(encode_event(full).split(b"data: ")[1])
    assert body["completion_signal"] == {"kind": "incomplete", "reason": "max_tokens"}
    assert body["quota_warnings"][0]["next_reset"] == "2027-01-01T00:00:00.000000Z"
    assert "message_id" not in body
    err = encode_event(ErrorEvent(code="quota_exceeded", message="m", quota_scope="tokens"))
    assert err.startswith(b"event: error\ndata: ")
    assert b'"quota_scope":"tokens"' in err
    assert b"quota_scope" not in encode_event(stream_interrupted())
    cit = Citations((Citation(source="web", title="t", url="https://e", snippet="s"),))
    assert json.loads(encode_event(cit).split(b"data: ")[1]) == {
        "items": [{"source": "web", "title": "t", "snippet": "s", "url": "https://e"}]
    }
