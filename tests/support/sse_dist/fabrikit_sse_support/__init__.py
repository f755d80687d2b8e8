"""A throwaway distribution ``fabrikit-sse-support`` for the SIGTERM test of the REST host.

Put ``tests/support/sse_dist`` on ``PYTHONPATH`` of a ``fabrikit run`` subprocess: the kernel discovers the
``sse-support`` module through the real ``fabrikit`` entry-point group. Its public SSE route ticks until the
host's drain signal, then sends the terminal event ``bye`` and ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Router, get
from litestar.response import ServerSentEvent

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.http import RestHost, RestRegistrar, public


class SseSupport(Module):
    manifest = Manifest("sse-support", "0.1.0", capabilities={Capability.REST})

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        hub = ctx.hub

        @get("/stream", opt=public("sse_support.stream"))
        async def stream() -> ServerSentEvent:
            host = hub.get(RestHost)  # type: ignore[type-abstract]

            async def events() -> AsyncIterator[str]:
                tick = 0
                while not host.shutting_down.is_set():
                    yield f"tick {tick}"
                    tick += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(host.shutting_down.wait(), 0.05)
                yield "bye"

            return ServerSentEvent(events())

        rest.include(Router("/sse-support/v1", route_handlers=[stream]), module=ctx.name)


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [SseSupport]
