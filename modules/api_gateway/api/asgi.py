"""Small ASGI helpers shared by the gateway's wrappers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import msgspec

from fabrikit.kernel.errors import PROBLEM_CONTENT_TYPE
from fabrikit.kernel.http import make_problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(
    send: Send, status: int, payload: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_bytes(send, status, msgspec.json.encode(payload), "application/json", headers)


async def send_problem(
    send: Send,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    *,
    instance: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    problem = make_problem(status, code, title, detail, instance=instance)
    await send_bytes(send, status, problem.to_json(), PROBLEM_CONTENT_TYPE, headers)
