"""SIGTERM during an open SSE stream (P-6.8.3, K-7.3): a real ``fabrikit run`` subprocess drains cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

SSE_DIST = Path(__file__).parents[1] / "support" / "sse_dist"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_sigterm_lets_an_open_stream_end_with_its_terminal_event(tmp_path: Path) -> None:
    port = _free_port()
    config = {
        "server": {"home_dir": str(tmp_path / "home")},
        "logging": {"level": "info", "format": "json"},
        "modules": {
            "types-registry": None,
            "module-orchestrator": None,
            "api-gateway": {"config": {"bind_addr": f"127.0.0.1:{port}", "drain_timeout_s": 5}},
            "sse-support": None,
        },
    }
    cfg = tmp_path / "fabrikit.yaml"
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SSE_DIST), os.environ.get("PYTHONPATH", "")])}
    log = (tmp_path / "out.log").open("wb")  # a file, not a pipe: a full pipe would block the server
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fabrikit",
        "run",
        "--config",
        str(cfg),
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        return (tmp_path / "out.log").read_text(encoding="utf-8", errors="replace")

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(300):
                if proc.returncode is not None:
                    break
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            assert proc.returncode is None, output()
            async with client.stream("GET", "/sse-support/v1/stream") as r:
                assert r.status_code == 200
                data = []
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        data.append(line[len("data: ") :])
                        if len(data) == 2:
                            proc.send_signal(signal.SIGTERM)
        assert data[:2] == ["tick 0", "tick 1"]
        assert data[-1] == "bye"
        code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0, output()
        assert "shutdown_completed" in output()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
