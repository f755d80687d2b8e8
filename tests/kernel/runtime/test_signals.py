"""K-7.3 signals against a REAL ``python -m fabrikit run`` process running the throwaway ``fabrikit-toy``
distribution (found through its dist-info on PYTHONPATH, like any installed distribution)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.fixtures.dists import TOY_DIST_DIR

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]


class Proc:
    def __init__(self, tmp_path: Path, start_sleep: float) -> None:
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        config = {
            "server": {"home_dir": str(tmp_path / "home")},
            "runtime": {"shutdown_budget": "10s", "timeouts": {"start": 300}},
            "logging": {"format": "json"},
            "modules": {"toy": {"config": {"marker_dir": str(self.markers), "start_sleep": start_sleep}}},
        }
        cfg = tmp_path / "fabrikit.yaml"
        cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TOY_DIST_DIR), env.get("PYTHONPATH")]))
        env["FABRIKIT_LOAD_PLUGINS"] = "fabrikit-toy"
        env.pop("FABRIKIT_CONFIG", None)
        self.stderr_path = tmp_path / "stderr.log"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fabrikit", "run", "--config", str(cfg)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def wait_for_marker(self, name: str, limit: float = 60.0) -> None:
        end = time.monotonic() + limit
        while not (self.markers / name).exists():
            if self.proc.poll() is not None:
                pytest.fail(f"fabrikit exited with {self.proc.returncode} before '{name}':\n{self.stderr()}")
            if time.monotonic() > end:
                pytest.fail(f"no '{name}' marker after {limit} s:\n{self.stderr()}")
            time.sleep(0.05)

    def terminate_and_wait(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, object]]:
        out = []
        for line in self.stderr().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._stderr.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[type[Proc]]:
    started: list[Proc] = []

    def make(start_sleep: float) -> Proc:
        proc = Proc(tmp_path, start_sleep)
        started.append(proc)
        return proc

    yield make  # type: ignore[misc]
    for proc in started:
        proc.close()


def test_sigterm_while_running_stops_gracefully_and_exits_0(spawn) -> None:  # type: ignore[no-untyped-def]
    proc = spawn(0.0)
    proc.wait_for_marker("started")
    assert proc.terminate_and_wait() == 0, proc.stderr()
    assert (proc.markers / "stopped").exists()
    names = [e.get("event") for e in proc.events()]
    assert "shutdown_started" in names
    assert names.index("shutdown_started") < names.index("shutdown_completed")
    (report,) = [e for e in proc.events() if e.get("event") == "startup_report"]
    assert report["ok"] is True
    assert [m["name"] for m in report["modules"]] == ["toy"]  # type: ignore[index, union-attr]


def test_sigterm_during_startup_rolls_back_and_exits_1(spawn) -> None:  # type: ignore[no-untyped-def]
    proc = spawn(300.0)
    proc.wait_for_marker("starting")
    assert proc.terminate_and_wait() == 1, proc.stderr()
    assert (proc.markers / "stopped").exists(), "rollback must stop a module whose start was entered"
    assert not (proc.markers / "started").exists()
    (report,) = [e for e in proc.events() if e.get("event") == "startup_report"]
    assert report["ok"] is False
    assert report["failed_phase"] == "start"
    assert report["failed_module"] == "toy"
    assert report["error"] == "startup cancelled by SIGTERM"
