"""Write coalescing and the latency schedule (M-9.2, M-9.3), checked through the writes, not the clock."""

from __future__ import annotations

import asyncio

from fabrikit.modules.mock_llm.directives import Directives
from fabrikit.modules.mock_llm.plan import plan_reply
from fabrikit.modules.mock_llm.responses_stream import ResponsesEncoder
from fabrikit.modules.mock_llm.scheduler import EventSink, run_stream


def _plan(directives: Directives):  # type: ignore[no-untyped-def]
    return plan_reply(
        "responses",
        {"model": "m", "input": "x"},
        directives,
        reply_text="x",
        script_text=None,
        auto_tools=True,
        words_per_delta=1,
        store_files=lambda ids: [],
    )


async def _run(
    directives: Directives, coalesce: int, start_offset: float = 0.0
) -> tuple[list[bytes], EventSink]:
    writes: list[bytes] = []

    async def write(data: bytes) -> None:
        writes.append(data)

    plan = _plan(directives)
    sink = EventSink(write, coalesce, lambda n: None)
    start = asyncio.get_running_loop().time() + start_offset
    end = await run_stream(ResponsesEncoder(plan), plan, sink, start=start, stall_secs=0)
    assert end == "closed"
    return writes, sink


async def test_zero_latency_writes_are_coalesced() -> None:
    writes, sink = await _run(Directives(lorem=5000), coalesce=16384)
    body = b"".join(writes)
    assert body.count(b"\n\n") == sink.sent == 5000 + 8
    big = [w for w in writes[1:-1]]
    assert all(len(w) <= 16384 for w in big)
    assert len(writes) <= len(body) // 8000  # batches, never one write per event


async def test_every_event_is_whole_within_a_write() -> None:
    writes, _ = await _run(Directives(lorem=3000), coalesce=1000)
    assert all(w.endswith(b"\n\n") and (w.startswith(b"event: ")) for w in writes)


async def test_events_already_due_go_out_together() -> None:
    # The schedule started 10 s ago: every delta is overdue, so none waits and all leave in one write.
    writes, sink = await _run(Directives(lorem=50, latency=20.0), coalesce=1 << 20, start_offset=-10.0)
    assert sink.sent == 58
    assert len(writes) == 2  # the preamble, then everything else at once
