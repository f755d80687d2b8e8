"""pytest support: ``from fabrikit.modules.mock_llm.testing import mock_llm  # noqa: F401`` in a conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .config import MockLlmConfig
from .server import MockLlmServer


@pytest_asyncio.fixture
async def mock_llm() -> AsyncIterator[MockLlmServer]:
    """A started mock on an ephemeral loopback port, stopped after the test."""
    async with MockLlmServer(MockLlmConfig(port=0)) as server:
        yield server


__all__ = ["mock_llm"]
