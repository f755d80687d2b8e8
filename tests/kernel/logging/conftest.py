from __future__ import annotations

from collections.abc import Iterator

import pytest

from fabrikit.kernel.logging import clear_context, reset_logging


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    """Every test starts and ends with no bound context and no logging configuration."""
    clear_context()
    yield
    clear_context()
    reset_logging()
