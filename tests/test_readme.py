"""The README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = (
        ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Set up", 1)[1].split("\n## ", 1)[0]
    )
    blocks = _bash_blocks(setup)
    assert len(blocks) == 2
    assert all("\n" not in b for b in blocks), "each set-up command is one line"
    assert blocks[0].endswith("fabrikit run")
    assert "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command() -> None:
    setup = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Set up", 1)[1]
    test_command = _bash_blocks(setup)[1]
    ci_lines = [ln.strip() for ln in ROOT.joinpath(".ci", "run").read_text(encoding="utf-8").splitlines()]
    assert test_command in ci_lines
