"""Every example config passes `fabrikit check` (examples in docs cannot rot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabrikit.kernel.cli import main

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "examples" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_example_config_passes_check(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--config", str(config)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("OK: ")
