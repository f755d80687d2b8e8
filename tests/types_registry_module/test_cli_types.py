"""``fabrikit types [--pattern P] [--json]`` (K-19): GTS id, schema/instance, who registered it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fabrikit.kernel.cli import main

BASE = "gts.x.core.modkit.plugin.v1~"
AUTHN_SPEC = BASE + "x.core.authn_resolver.plugin.v1~"
STATIC_AUTHN = AUTHN_SPEC + "hyperspot.builtin.static_authn_resolver.plugin.v1"
BUNDLED_SPECS = [
    AUTHN_SPEC,
    BASE + "x.core.authz_resolver.plugin.v1~",
    BASE + "x.core.credstore.plugin.v1~",
    BASE + "x.core.mini_chat_audit.plugin.v1~",
    BASE + "x.core.mini_chat_model_policy.plugin.v1~",
    BASE + "x.core.tenant_resolver.plugin.v1~",
]


def _config(tmp_path: Path) -> str:
    path = tmp_path / "fabrikit.yaml"
    raw = {"server": {"home_dir": str(tmp_path)}, "modules": {"types-registry": None, "api-gateway": None}}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def test_types_lists_the_bundled_plugin_specs_and_who_registered_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["types", "--config", _config(tmp_path), "--log-format", "json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["GTS", "ID", "KIND", "REGISTERED", "BY"]
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in lines[1:]}
    assert rows[BASE] == ["schema", "types-registry, schemas/"]
    assert rows[AUTHN_SPEC] == ["schema", "authn-resolver, schemas/"]
    assert rows[STATIC_AUTHN] == ["instance", "plugin:static-authn"]
    for spec in BUNDLED_SPECS[1:]:
        assert rows[spec][0] == "schema"
        assert "schemas/" in rows[spec][1]


def test_types_json_with_a_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["types", "list", "--config", _config(tmp_path), "--pattern", AUTHN_SPEC + "*", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"gts_id": STATIC_AUTHN, "kind": "instance", "registered_by": "plugin:static-authn"}]


def test_types_rejects_a_bad_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "--config", _config(tmp_path), "--pattern", "acme.*"]) == 1
    assert "error: Invalid GTS wildcard pattern: acme.*" in capsys.readouterr().err
