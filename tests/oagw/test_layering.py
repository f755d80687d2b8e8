"""Layering (G-1.2): sdk and domain import no aiohttp, Litestar or Piccolo."""

from __future__ import annotations

import ast
from pathlib import Path

import fabrikit.modules.oagw as oagw

FORBIDDEN = ("aiohttp", "litestar", "piccolo", "uvicorn", "asyncpg", "aiosqlite")
ROOT = Path(oagw.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_sdk_and_domain_are_pure() -> None:
    files = [ROOT / "sdk.py", *ROOT.glob("_sdk_*.py"), *(ROOT / "domain").glob("*.py")]
    assert len(files) > 10
    for path in files:
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        assert not bad, f"{path.name} imports {bad}"
