"""The top-level ``schemas/`` folder: one JSON Schema per GTS type fabrikit defines."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def bundled_schemas() -> list[dict[str, Any]]:
    """Every ``*.json`` file shipped in ``fabrikit.schemas``, sorted by file name."""
    root = resources.files("fabrikit.schemas")
    docs = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            docs.append(json.loads(entry.read_text(encoding="utf-8")))
    return docs


def export_differences() -> list[str]:
    """Differences between ``schemas/`` and the schemas the SDKs generate (filled in as SDKs declare specs)."""
    return []
