"""Docs cannot rot: quoted code must exist verbatim in the file it names; other Python blocks must compile."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"(?:<!-- from: (?P<src>[^ ]+) -->\n)?```python\n(?P<code>.*?)```", re.S)


def _blocks() -> list[tuple[str, str | None, str]]:
    found = []
    for doc in DOCS:
        for m in _BLOCK.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, m.group("src"), m.group("code")))
    return found


@pytest.mark.parametrize(("doc", "src", "code"), _blocks())
def test_python_blocks_are_real(doc: str, src: str | None, code: str) -> None:
    if src is not None:
        source = (ROOT / src).read_text(encoding="utf-8")
        assert code in source, f"{doc}: the snippet quoted from {src} no longer matches it"
    else:
        compile(textwrap.dedent(code), f"<{doc}>", "exec")


def test_docs_exist() -> None:
    names = {d.name for d in DOCS}
    assert {"architecture.md", "configuration.md", "module-authoring.md"} <= names
