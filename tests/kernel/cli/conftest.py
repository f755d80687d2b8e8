"""CLI tests run ``main([...])`` in-process with the throwaway ``fabrikit-toy`` distribution on sys.path."""

from collections.abc import Iterator

import pytest

from fabrikit.kernel.logging import reset_logging
from tests.fixtures.dists import dists, toy_dist

__all__ = ["dists", "toy_dist"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("FABRIKIT_CONFIG", raising=False)
    monkeypatch.delenv("FABRIKIT_LOAD_PLUGINS", raising=False)
    yield
    reset_logging()  # main() pointed the log handler at capsys' stream
