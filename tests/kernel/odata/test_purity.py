"""K-1.1: the odata package imports only stdlib, msgspec and the pure kernel packages."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"litestar", "piccolo", "aiohttp"}:
            raise ImportError("blocked: " + name)
        return None
sys.meta_path.insert(0, Block())
import fabrikit.kernel.odata
print("ok")
"""


def test_imports_with_frameworks_blocked() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr
