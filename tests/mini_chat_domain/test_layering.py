"""The domain imports no web framework, ORM, HTTP client or database driver (CI-1.1)."""

from __future__ import annotations

import ast
from pathlib import Path

import fabrikit.modules.mini_chat.domain as domain

FORBIDDEN = ("aiohttp", "litestar", "piccolo", "uvicorn", "asyncpg", "aiosqlite", "httpx", "sqlite3")
ROOT = Path(domain.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_is_pure() -> None:
    files = sorted(ROOT.glob("*.py"))
    assert len(files) > 15
    for path in files:
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        assert not bad, f"{path.name} imports {bad}"


def test_forbidden_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import litestar\nfrom piccolo.table import Table\n")
    assert imported_modules(bad) >= {"litestar", "piccolo.table"}
