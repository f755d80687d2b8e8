from __future__ import annotations

import asyncio
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class OpenApiSource(Protocol):
    """Registered by the REST host so ``fabrikit openapi`` can print the document without serving."""

    def openapi_schema(self) -> dict[str, Any]: ...


@runtime_checkable
class RestHost(Protocol):
    """The REST host as other modules see it (P-6.1.3): streams end when ``shutting_down`` is set."""

    shutting_down: asyncio.Event
    base_url: str

    def is_ready(self) -> bool: ...
