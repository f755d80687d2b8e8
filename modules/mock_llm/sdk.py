"""The public face of mock-llm: its config, the embeddable server and the client protocol (M-1.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .config import MockLlmConfig
from .recorder import ScriptEntry, ScriptMatch
from .server import MockLlmServer, PortInUseError


@runtime_checkable
class MockLlmClient(Protocol):
    """What the ClientHub offers other modules; :class:`MockLlmServer` implements it."""

    @property
    def base_url(self) -> str: ...

    def requests(self, path_prefix: str | None = None, limit: int | None = None) -> list[dict[str, Any]]: ...

    def script(self, items: Sequence[ScriptEntry | dict[str, Any]]) -> None: ...

    def reset(self) -> None: ...


__all__ = ["MockLlmClient", "MockLlmConfig", "MockLlmServer", "PortInUseError", "ScriptEntry", "ScriptMatch"]
