"""`fabrikit migrate` and `migrate --status` on the installed mini-chat module (K-14.5, docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabrikit.kernel.cli import main


def test_migrate_status_then_apply_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "fabrikit.yaml"
    config.write_text(
        f"server:\n  home_dir: {tmp_path / 'home'}\nmodules:\n  mini-chat:\n  api-gateway:\n",
        encoding="utf-8",
    )

    assert main(["migrate", "--status", "--config", str(config)]) == 0
    before = capsys.readouterr().out
    assert "m000_mini_chat_schema" in before
    assert "applied" not in before
    assert "pending" in before

    assert main(["migrate", "--config", str(config)]) == 0
    assert "mini-chat: migrations up to date" in capsys.readouterr().out
    assert (tmp_path / "home" / "mini-chat" / "mini-chat.sqlite").exists()

    assert main(["migrate", "--status", "--config", str(config)]) == 0
    after = capsys.readouterr().out
    assert "pending" not in after
    mini_chat_rows = [line for line in after.splitlines() if line.startswith("mini-chat")]
    assert mini_chat_rows
    assert all("applied" in line for line in mini_chat_rows)
