"""``fabrikit run`` with no config (the dev profile) as a subprocess, driven by the README's curl session."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readme_chat_session() -> list[str]:
    """The bash lines of the README's "Chat with the mock model" block."""
    text = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = text.split("### Chat with the mock model", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture
def default_run(tmp_path: Path) -> Iterator[int]:
    """A `fabrikit run` on the dev profile in a scratch directory; ports moved with FABRIKIT__ overrides."""
    api, mock = _free_port(), _free_port()
    env = {
        **os.environ,
        "FABRIKIT__MODULES__API_GATEWAY__CONFIG__BIND_ADDR": f"127.0.0.1:{api}",
        "FABRIKIT__MODULES__MOCK_LLM__CONFIG__PORT": str(mock),
        "FABRIKIT__MODULES__MINI_CHAT__CONFIG__PROVIDERS__MOCK__PORT": str(mock),
        "FABRIKIT__MODULES__OAGW__CONFIG__PRIVATE_NETWORK_ALLOWLIST": f'["127.0.0.1:{mock}"]',
    }
    env.pop("FABRIKIT_CONFIG", None)
    # A file, not a pipe: nobody reads the server's logs while it runs, and a full pipe would block it.
    log_path = tmp_path / "fabrikit-run.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fabrikit", "run"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out = log_path.read_text(errors="replace")
                pytest.fail(f"fabrikit run exited with {proc.returncode}:\n{out[-4000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{api}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "fabrikit run did not become ready"
            time.sleep(0.2)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README session needs curl")
def test_readme_curl_session_against_the_default_run(default_run: int) -> None:
    script = "set -euo pipefail\n" + "\n".join(
        line.replace("localhost:8086", f"127.0.0.1:{default_run}") for line in readme_chat_session()
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    events = re.findall(r"^event: (\w+)$", out, flags=re.M)
    assert events[0] == "stream_started"
    assert events[-1] == "done", out
    assert "delta" in events
    listed = json.loads(out.strip().splitlines()[-1])
    assert [m["role"] for m in listed["items"]] == ["user", "assistant"]
    assert listed["items"][0]["content"] == "Hello, mock model!"
    assert listed["items"][1]["content"]
