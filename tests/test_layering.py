"""Layering rules, checked on the source (K-1.1, K-1.2, the module layout of the spec README)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_DB_HTTP = ("litestar", "piccolo", "aiohttp", "uvicorn", "asyncpg", "aiosqlite")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    package = ".".join(("fabrikit", *path.relative_to(ROOT).with_suffix("").parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.append(node.module)
    return names


def _py_files(*folders: str) -> list[Path]:
    return [p for f in folders for p in sorted((ROOT / f).rglob("*.py"))]


def test_kernel_imports_no_module_or_plugin() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in _py_files("kernel")
        for name in _imports(p)
        if name.startswith(("fabrikit.modules", "fabrikit.plugins"))
    ]
    assert offenders == []


def test_domain_code_imports_no_web_db_or_http_library() -> None:
    domain_files = [p for p in _py_files("modules", "kernel") if "domain" in p.relative_to(ROOT).parts]
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in domain_files
        for name in _imports(p)
        if name.split(".")[0] in WEB_DB_HTTP
    ]
    assert offenders == []


def test_modules_and_plugins_use_only_each_others_sdk() -> None:
    offenders = []
    for p in _py_files("modules", "plugins"):
        parts = p.relative_to(ROOT).parts
        own = f"fabrikit.{parts[0]}.{parts[1]}"
        for name in _imports(p):
            if not name.startswith("fabrikit.modules.") or name.startswith(own + ".") or name == own:
                continue
            segments = name.split(".")
            if len(segments) >= 4 and segments[3] != "sdk":
                offenders.append(f"{p.relative_to(ROOT)}: {name}")
    assert offenders == []


@pytest.mark.parametrize("package", ["errors", "security", "odata", "plugins"])
def test_pure_kernel_packages_import_with_web_db_http_blocked(package: str) -> None:
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {WEB_DB_HTTP!r}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import fabrikit.kernel.{package}\n"
    )
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
