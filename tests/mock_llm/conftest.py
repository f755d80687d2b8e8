from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio

from fabrikit.modules.mock_llm import MockLlmConfig, MockLlmServer
from fabrikit.modules.mock_llm.testing import mock_llm  # noqa: F401

MakeMock = Callable[..., AbstractAsyncContextManager[MockLlmServer]]


@pytest_asyncio.fixture
async def client(mock_llm: MockLlmServer) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with httpx.AsyncClient(base_url=mock_llm.base_url, timeout=30) as http:
        yield http


@pytest.fixture
def make_mock() -> MakeMock:
    """A mock with config overrides, on an ephemeral port."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[MockLlmServer]:
        async with MockLlmServer(MockLlmConfig(port=0, **overrides)) as server:
            yield server

    return make
