"""What one LLM request will answer (M-4.3, M-4.4): words, tools, citations, usage. Pure: no I/O.

The stream encoders (`responses_stream`, `chat_stream`) turn a :class:`ReplyPlan` into bytes; the server only
schedules them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec

from .directives import Directives, ToolCall

LOREM_WORDS: tuple[str, ...] = tuple(
    [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
        "aliqua",
        "ut",
        "enim",
        "ad",
        "minim",
        "veniam",
        "quis",
        "nostrud",
        "exercitation",
        "ullamco",
        "laboris",
        "nisi",
        "ut",
        "aliquip",
        "ex",
        "ea",
        "commodo",
        "consequat",
        "duis",
        "aute",
        "irure",
        "dolor",
        "in",
        "reprehenderit",
        "in",
        "voluptate",
        "velit",
        "esse",
        "cillum",
        "dolore",
        "eu",
        "fugiat",
        "nulla",
        "pariatur",
        "excepteur",
        "sint",
        "occaecat",
        "cupidatat",
        "non",
        "proident",
        "sunt",
        "in",
        "culpa",
        "qui",
        "officia",
        "deserunt",
        "mollit",
        "anim",
        "id",
        "est",
        "laborum",
    ]
)
_LOREM_TOKENS = (LOREM_WORDS[0], *(" " + word for word in LOREM_WORDS[1:]))
_LOREM_SPACED = tuple(" " + word for word in LOREM_WORDS)
_WORD_RE = re.compile(r"\s*\S+")
BUILTIN_TOOLS = ("file_search", "web_search", "code_interpreter")
DEFAULT_MAX_NUM_RESULTS = 2
EMPTY_ECHO = "OK"
CODE_INTERPRETER_CODE = "print('mock output')"
CODE_INTERPRETER_LOGS = "mock output"

Api = Literal["responses", "chat"]
# Looks up (file_id, filename) pairs held by the given vector stores.
StoreFiles = Callable[[Sequence[str]], list[tuple[str, str]]]


class BadRequest(ValueError):
    """A request M-3.1 rejects with 400; ``param`` names the offending field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ToolItem(msgspec.Struct, frozen=True):
    kind: str  # file_search | web_search | code_interpreter
    ordinal: int  # 1-based among calls of that kind


class FunctionCall(msgspec.Struct, frozen=True):
    name: str
    arguments: str
    chunks: tuple[str, ...]


class Usage(msgspec.Struct, frozen=True):
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ReplyPlan(msgspec.Struct, kw_only=True):
    api: Api
    model: str
    directives: Directives
    tokens: Sequence[str]  # one entry per word, each carrying its leading whitespace
    words: int  # words that will be sent (after the request's cap)
    think_words: int
    words_per_delta: int
    truncated: bool
    tools: tuple[ToolItem, ...] = ()
    citations: tuple[dict[str, Any], ...] = ()
    function_call: FunctionCall | None = None
    input_tokens: int = 0
    include_usage: bool = True
    query: str = ""  # the user's text without directives

    @property
    def deltas(self) -> int:
        if self.function_call is not None:
            return len(self.function_call.chunks)
        return -(-self.words // self.words_per_delta)

    def delta_text(self, k: int) -> str:
        start = k * self.words_per_delta
        stop = min(start + self.words_per_delta, self.words)
        if stop - start == 1:
            return self.tokens[start]
        return "".join(self.tokens[start:stop])

    def text(self, words: int | None = None) -> str:
        return "".join(self.tokens[: self.words if words is None else words])

    def interruption(self) -> tuple[str, int] | None:
        """The earliest of fail/drop/stall that falls within the reply: ``(kind, after_deltas)``."""
        d = self.directives
        found = [
            (after, rank, kind)
            for rank, (kind, after) in enumerate(
                (("fail", d.fail_after), ("drop", d.drop_after), ("stall", d.stall_after))
            )
            if after is not None and after <= self.deltas
        ]
        if not found:
            return None
        after, _, kind = min(found)
        return kind, after

    @property
    def incomplete_reason(self) -> str | None:
        if self.truncated:
            return "max_output_tokens"
        return self.directives.incomplete

    def usage(self, words_sent: int | None = None) -> Usage | None:
        if self.directives.no_usage:
            return None
        if self.directives.usage is not None:
            inp, out, cached, reasoning = self.directives.usage
            return Usage(inp, out, cached, reasoning)
        sent = self.words if words_sent is None else words_sent
        if self.function_call is not None and words_sent is None:
            sent = len(self.function_call.chunks)
        return Usage(self.input_tokens, sent, 0, min(self.think_words, sent))


def plan_reply(
    api: Api,
    body: dict[str, Any],
    directives: Directives,
    *,
    reply_text: str,
    script_text: str | None,
    auto_tools: bool,
    words_per_delta: int,
    store_files: StoreFiles,
) -> ReplyPlan:
    """Build the plan from the request body and its effective directives."""
    tokens: list[str] | _Cycle
    if script_text is not None:
        tokens = tokenize(script_text)
    elif directives.lorem is not None:
        tokens = _Cycle(directives.lorem)
    else:
        tokens = tokenize(reply_text or EMPTY_ECHO)
    if directives.think:
        tokens = _with_thinking(directives.think, list(tokens))
    planned = len(tokens)
    cap = _cap(api, body)
    truncated = cap is not None and cap < planned
    words = cap if truncated and cap is not None else planned
    declared = _declared_tools(body)
    calls = _tool_calls(directives, declared, auto_tools)
    function_call = None
    if any(call.name == "function" for call in calls) and declared.get("function"):
        function_call = _function_call(declared["function"][0], reply_text)
    tools = tuple(
        ToolItem(call.name, n)
        for call in calls
        if call.name in BUILTIN_TOOLS
        for n in range(1, call.count + 1)
    )
    if api == "chat":
        tools = ()
    citations = _citations(tools, declared, store_files) if directives.citations else ()
    stream_options = body.get("stream_options")
    include_usage = api == "responses" or (
        isinstance(stream_options, dict) and bool(stream_options.get("include_usage"))
    )
    return ReplyPlan(
        api=api,
        model=body["model"],
        directives=directives,
        tokens=tokens,
        words=words,
        think_words=min(directives.think, words),
        words_per_delta=words_per_delta,
        truncated=truncated,
        tools=tools,
        citations=citations,
        function_call=function_call,
        input_tokens=input_tokens(api, body),
        include_usage=include_usage,
        query=reply_text,
    )


def tokenize(text: str) -> list[str]:
    return _WORD_RE.findall(text.strip())


class _Cycle(Sequence[str]):
    """``lorem=N`` words without materialising a million strings."""

    def __init__(self, count: int) -> None:
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return _LOREM_TOKENS[index] if index < len(_LOREM_TOKENS) else _LOREM_SPACED[index % len(LOREM_WORDS)]


def _with_thinking(count: int, answer: list[str]) -> list[str]:
    thought = list(_Cycle(count))
    thought[0] = "<think>" + thought[0]
    thought[-1] = thought[-1] + "</think>"
    if answer:
        answer = ["\n" + answer[0].lstrip(), *answer[1:]]
    return thought + answer


def _cap(api: Api, body: dict[str, Any]) -> int | None:
    keys = ("max_output_tokens",) if api == "responses" else ("max_completion_tokens", "max_tokens")
    for key in keys:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise BadRequest(f"{key} must be a positive integer", key)
        return value
    return None


def _declared_tools(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    declared: dict[str, list[dict[str, Any]]] = {}
    tools = body.get("tools")
    if not isinstance(tools, list):
        return declared
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            continue
        kind = tool["type"]
        if kind.startswith("web_search"):
            kind = "web_search"
        declared.setdefault(kind, []).append(tool)
    return declared


def _tool_calls(directives: Directives, declared: dict[str, Any], auto_tools: bool) -> list[ToolCall]:
    if directives.tools is None:
        return [ToolCall(kind) for kind in declared if kind in BUILTIN_TOOLS] if auto_tools else []
    return [call for call in directives.tools if call.name in declared]


def _function_call(tool: dict[str, Any], reply_text: str) -> FunctionCall:
    name = tool.get("name") or (tool.get("function") or {}).get("name") or "function"
    arguments = msgspec.json.encode({"input": reply_text}).decode()
    # Split like a model would: a few characters per chunk.
    chunks = tuple(arguments[i : i + 8] for i in range(0, len(arguments), 8))
    return FunctionCall(str(name), arguments, chunks)


def _citations(
    tools: tuple[ToolItem, ...], declared: dict[str, list[dict[str, Any]]], store_files: StoreFiles
) -> tuple[dict[str, Any], ...]:
    citations: list[dict[str, Any]] = []
    if any(item.kind == "file_search" for item in tools):
        tool = declared["file_search"][0]
        store_ids = [s for s in tool.get("vector_store_ids") or [] if isinstance(s, str)]
        limit = tool.get("max_num_results")
        limit = limit if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_NUM_RESULTS
        for file_id, filename in store_files(store_ids)[:limit]:
            citations.append({"type": "file_citation", "file_id": file_id, "filename": filename})
    citations.extend(
        {
            "type": "url_citation",
            "url": f"https://example.com/mock/search/{item.ordinal}",
            "title": f"Mock result {item.ordinal}",
        }
        for item in tools
        if item.kind == "web_search"
    )
    return tuple(citations)


def place_citations(citations: Sequence[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Anchor the citations at the end of the sent text (OpenAI indexes characters of the output text)."""
    end = len(text)
    placed = []
    for citation in citations:
        if citation["type"] == "file_citation":
            placed.append({**citation, "index": end})
        else:
            placed.append({**citation, "start_index": 0, "end_index": end})
    return placed


def input_tokens(api: Api, body: dict[str, Any]) -> int:
    """ceil(UTF-8 bytes of every input text / 4) (M-4.3)."""
    total = sum(len(text.encode()) for text in _input_texts(api, body))
    return math.ceil(total / 4)


def _input_texts(api: Api, body: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    if api == "responses":
        if isinstance(body.get("instructions"), str):
            texts.append(body["instructions"])
        items = body.get("input")
        if isinstance(items, str):
            return [*texts, items]
    else:
        items = body.get("messages")
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            texts.extend(_content_texts(item.get("content")))
    return texts


def _content_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
    return []


def last_user_text(api: Api, body: dict[str, Any]) -> str:
    """The text that carries directives and is echoed (M-4.1); validates the required fields (M-3.1)."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise BadRequest("you must provide a model parameter", "model")
    key = "input" if api == "responses" else "messages"
    items = body.get(key)
    if items is None or (isinstance(items, list) and not items):
        raise BadRequest(f"missing required parameter: '{key}'", key)
    if isinstance(items, str):
        if api == "chat":
            raise BadRequest("messages must be an array", key)
        return items
    if not isinstance(items, list):
        raise BadRequest(f"{key} must be a string or an array", key)
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            return "\n".join(_content_texts(item.get("content")))
    return ""
