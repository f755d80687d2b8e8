from collections.abc import Iterator

import pytest

from fabrikit.kernel.logging import reset_logging


@pytest.fixture(autouse=True)
def _isolated_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``main()`` reads these variables and points the log handler at capsys' stream: undo both."""
    monkeypatch.delenv("FABRIKIT_CONFIG", raising=False)
    monkeypatch.delenv("FABRIKIT_LOAD_PLUGINS", raising=False)
    yield
    reset_logging()
