"""Hypothesis strategies for oagw: SSE streams with their expected events, and byte-stream chunkings."""

from __future__ import annotations

from hypothesis import strategies as st

from fabrikit.modules.oagw.sdk import ServerEvent

_LINE_TEXT = st.text(
    alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"]), max_size=20
)
_NAME = st.text(
    alphabet=st.characters(exclude_characters="\r\n\x00:", exclude_categories=["Cs"]),
    min_size=1,
    max_size=8,
)
EOLS = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[ServerEvent]]:
    """A serialized event stream (random line endings, comments, optional BOM) and the events it must yield."""
    eol = draw(EOLS)
    out: list[str] = []
    expected: list[ServerEvent] = []
    last_id: str | None = None
    if draw(st.booleans()):
        out.append("\ufeff")
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.none() | _NAME)
        lines = draw(st.lists(_LINE_TEXT, min_size=1, max_size=3))
        new_id = draw(st.none() | _LINE_TEXT)
        if draw(st.booleans()):
            out.append(":" + draw(_LINE_TEXT) + eol)
        if name is not None:
            out.append(f"event: {name}{eol}")
        if new_id is not None:
            out.append(f"id: {new_id}{eol}")
            last_id = new_id
        out.extend(f"data: {line}{eol}" for line in lines)
        out.append(eol)
        expected.append(ServerEvent(event=name or "message", data="\n".join(lines), id=last_id))
    return "".join(out).encode("utf-8"), expected


def chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """Every way of cutting ``data`` into consecutive chunks (empty chunks included)."""
    return st.lists(st.integers(0, len(data)), max_size=12).map(
        lambda cuts: [data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)]
    )
