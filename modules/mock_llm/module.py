"""The mock-llm module: the OpenAI-compatible fake provider served on loopback (M-1)."""

from __future__ import annotations

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, hookimpl

from .config import MockLlmConfig
from .sdk import MockLlmClient
from .server import MockLlmServer


class MockLlm(Module):
    manifest = Manifest(
        "mock-llm",
        "0.1.0",
        capabilities={Capability.STATEFUL},
        stop_timeout=5.0,
        description="OpenAI-compatible fake provider (Responses, Chat Completions, Files, vector stores)",
    )
    config_type = MockLlmConfig

    def __init__(self) -> None:
        self.server: MockLlmServer | None = None

    async def init(self, ctx: ModuleContext) -> None:
        self.server = MockLlmServer(ctx.config)
        ctx.hub.register(MockLlmClient, self.server)  # type: ignore[type-abstract]

    async def start(self, ctx: ModuleContext) -> None:
        assert self.server is not None
        await self.server.start()
        ctx.logger.info("mock_llm_listening", url=self.server.base_url)

    async def stop(self, ctx: ModuleContext) -> None:
        if self.server is not None:
            await self.server.stop()


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [MockLlm]
