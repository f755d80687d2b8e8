"""The top-level ``schemas/`` folder: one JSON Schema per GTS type fabrikit defines, generated from the SDKs.

The SDK code is the source of truth. ``fabrikit types --export`` writes ``schemas/<gts id>.json`` for every schema
a bundled module registers (plus the plugin specs bundled SDKs declare, even when their host is not installed);
``fabrikit types --export-check`` and ``tests/types_registry_module/test_schemas_in_sync.py`` fail on any drift.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from fabrikit.kernel.plugins import PluginSpec

from ..domain.entity import canonical_bytes
from ..domain.gts_id import strip_gts_uri

SCHEMAS_PACKAGE = "fabrikit.schemas"
SCHEMAS_ORIGIN = "schemas/"
MODULES_PACKAGE = "fabrikit.modules"
EXPORT_HINT = "run `fabrikit types --export` and commit schemas/"


class SchemaFileError(ValueError):
    """A ``schemas/`` file that is not a JSON object."""


class ModuleSchema(msgspec.Struct, frozen=True):
    """A schema the SDK code produces, and who produces it (``module 'x'`` or ``a PluginSpec in <sdk>``)."""

    gts_id: str
    content: dict[str, Any]
    origin: str


def schemas_path() -> Path:
    """The folder on disk (an editable install or a source checkout; ``--export`` writes here)."""
    package = importlib.import_module(SCHEMAS_PACKAGE)
    return Path(str(package.__file__)).parent


def schema_file_name(gts_id: str) -> str:
    return gts_id + ".json"


def render(content: Mapping[str, Any]) -> str:
    """The exported text: pretty, sorted keys, trailing newline, so diffs stay small and reviewable."""
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def bundled_schemas(directory: Path | None = None) -> list[dict[str, Any]]:
    """Every ``*.json`` file in ``schemas/``, sorted by file name (loaded by types-registry's ``init``)."""
    return [doc for _, doc in _read_files(directory or schemas_path()).values()]


def sdk_plugin_specs() -> list[ModuleSchema]:
    """Plugin specs declared in bundled SDKs (``fabrikit.modules.<package>.sdk``), found by import.

    Covers hosts whose module is not installed or not written yet, so their spec files still exist.
    """
    modules = importlib.import_module(MODULES_PACKAGE)
    found: dict[str, ModuleSchema] = {}
    for info in sorted(pkgutil.iter_modules(modules.__path__), key=lambda i: i.name):
        sdk_name = f"{MODULES_PACKAGE}.{info.name}.sdk"
        try:
            sdk = importlib.import_module(sdk_name)
        except ModuleNotFoundError as exc:
            if exc.name != sdk_name:
                raise
            continue  # a package without an sdk.py
        for value in vars(sdk).values():
            if isinstance(value, PluginSpec) and value.id not in found:
                found[value.id] = ModuleSchema(value.id, value.schema(), f"a PluginSpec in {sdk_name}")
    return [found[gid] for gid in sorted(found)]


def differences(expected: Iterable[ModuleSchema], directory: Path | None = None) -> list[str]:
    """Each way ``directory`` differs from ``expected``: a missing file, a stale file, different content."""
    directory = directory or schemas_path()
    wanted = {schema_file_name(s.gts_id): s for s in expected}
    files = _read_files(directory)
    problems: list[str] = []
    for name in sorted(set(wanted) | set(files)):
        schema, on_disk = wanted.get(name), files.get(name)
        if on_disk is None:
            assert schema is not None
            problems.append(f"missing: schemas/{name}: registered by {schema.origin}")
        elif schema is None:
            problems.append(f"stale: schemas/{name}: no bundled module registers {_file_id(on_disk[1])}")
        elif canonical_bytes(on_disk[1]) != canonical_bytes(schema.content):
            problems.append(f"differs: schemas/{name}: content differs from what {schema.origin} registers")
        elif on_disk[0] != render(schema.content):
            problems.append(f"format: schemas/{name}: same content, not in export format")
    return problems


def write_schemas(expected: Iterable[ModuleSchema], directory: Path | None = None) -> list[str]:
    """Makes ``directory`` match ``expected`` (writes changed files, removes stale ones); lines say what changed."""
    directory = directory or schemas_path()
    wanted = {schema_file_name(s.gts_id): s for s in expected}
    changes: list[str] = []
    for name, schema in sorted(wanted.items()):
        path = directory / name
        text = render(schema.content)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changes.append(f"{'updated' if path.exists() else 'created'}: schemas/{name}")
            path.write_text(text, encoding="utf-8")
    for path in sorted(directory.glob("*.json")):
        if path.name not in wanted:
            changes.append(f"removed: schemas/{path.name}")
            path.unlink()
    return changes


def _read_files(directory: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    files: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaFileError(f"schemas/{path.name} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise SchemaFileError(f"schemas/{path.name} must hold a JSON object")
        files[path.name] = (text, doc)
    return files


def _file_id(doc: Mapping[str, Any]) -> str:
    raw = doc.get("$id")
    return strip_gts_uri(raw) if isinstance(raw, str) else "(no $id)"
