"""Reading a handle like the relay does (the relay itself belongs to the REST layer)."""

from __future__ import annotations

from typing import Any

from fabrikit.modules.mini_chat.domain.service_api import EndOfStream, TurnHandle
from fabrikit.modules.mini_chat.domain.sse import event_name


async def drain(handle: TurnHandle, timeout: float = 10.0) -> list[Any]:
    items: list[Any] = []
    handle.attach()
    while True:
        item = await handle.get(timeout)
        assert item is not None, "producer stalled"
        if isinstance(item, EndOfStream):
            return items
        items.append(item)


def names(items: list[Any]) -> list[str]:
    return [event_name(i) for i in items]
