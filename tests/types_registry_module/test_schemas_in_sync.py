"""``schemas/`` must match what the SDK code registers: when this fails, run ``fabrikit types --export``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fabrikit.kernel.cli import main
from fabrikit.modules.types_registry.infra.schemas_dir import (
    ModuleSchema,
    differences,
    render,
    schemas_path,
    sdk_plugin_specs,
    write_schemas,
)

BASE = "gts.x.core.modkit.plugin.v1~"


def test_schemas_folder_matches_the_sdks(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["types", "--export-check", "--log-format", "json"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert code == 0, "schemas/ drifted from the SDKs; run `fabrikit types --export`:\n" + "\n".join(err)


def test_every_plugin_spec_a_bundled_sdk_declares_has_its_file() -> None:
    specs = {s.gts_id for s in sdk_plugin_specs()}
    assert {
        BASE + "x.core.authn_resolver.plugin.v1~",
        BASE + "x.core.mini_chat_model_policy.plugin.v1~",
        BASE + "x.core.mini_chat_audit.plugin.v1~",
    } <= specs
    files = {p.name.removesuffix(".json") for p in schemas_path().glob("*.json")}
    assert specs <= files


def _schema(gts_id: str, **extra: object) -> ModuleSchema:
    content = {
        "$id": "gts://" + gts_id,
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
    }
    return ModuleSchema(gts_id, {**content, **extra}, "module 'm'")


def test_each_kind_of_difference_is_reported_and_export_fixes_them(tmp_path: Path) -> None:
    same, changed, fmt, missing = (f"gts.x.t.t.{n}.v1~" for n in ("same", "changed", "fmt", "missing"))
    expected = [_schema(same), _schema(changed, description="new"), _schema(fmt), _schema(missing)]
    (tmp_path / f"{same}.json").write_text(render(expected[0].content), encoding="utf-8")
    (tmp_path / f"{changed}.json").write_text(
        render({**expected[1].content, "description": "old"}), encoding="utf-8"
    )
    (tmp_path / f"{fmt}.json").write_text(json.dumps(expected[2].content), encoding="utf-8")
    (tmp_path / "gts.x.t.t.gone.v1~.json").write_text(
        render(_schema("gts.x.t.t.gone.v1~").content), encoding="utf-8"
    )
    (tmp_path / "README.md").write_text("kept", encoding="utf-8")

    assert differences(expected, tmp_path) == [
        f"differs: schemas/{changed}.json: content differs from what module 'm' registers",
        f"format: schemas/{fmt}.json: same content, not in export format",
        "stale: schemas/gts.x.t.t.gone.v1~.json: no bundled module registers gts.x.t.t.gone.v1~",
        f"missing: schemas/{missing}.json: registered by module 'm'",
    ]
    assert write_schemas(expected, tmp_path) == [
        f"updated: schemas/{changed}.json",
        f"updated: schemas/{fmt}.json",
        f"created: schemas/{missing}.json",
        "removed: schemas/gts.x.t.t.gone.v1~.json",
    ]
    assert differences(expected, tmp_path) == []
    assert write_schemas(expected, tmp_path) == []
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "kept"
    text = (tmp_path / f"{changed}.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))
