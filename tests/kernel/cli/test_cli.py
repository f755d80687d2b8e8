"""K-19 CLI: ``check`` (K-4.8), ``modules``, ``plugins``, usage errors; exit codes per K-7.5."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabrikit.kernel.cli import main
from tests.fixtures.dists import DistFactory


def _write(tmp_path: Path, data: Any, name: str = "fabrikit.yaml") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


VALID = {"modules": {"toy": {"config": {"start_sleep": 0}}, "toy-host": None}}


@pytest.mark.usefixtures("toy_dist")
def test_check_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--config", _write(tmp_path, VALID))
    assert (code, out) == (0, "OK: 2 modules, 1 plugins\n")


@pytest.mark.usefixtures("toy_dist")
def test_check_counts_only_active_plugins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--config", _write(tmp_path, {"modules": {"toy": None}}))
    assert (code, out) == (0, "OK: 1 modules, 0 plugins\n")


@pytest.mark.usefixtures("toy_dist")
@pytest.mark.parametrize(
    ("data", "culprit"),
    [
        ({"modules": {"toy": None, "toyy-host": None}}, "unknown module 'toyy-host' under modules: (did you mean 'toy-host'?)"),
        ({"modules": {"toy": {"confg": {}}}}, "modules.toy: unknown key 'confg' (did you mean 'config'?)"),
        ({"modules": {"toy": {"config": {"marker_dirr": "x"}}}}, "modules.toy.config: unknown key 'marker_dirr'"),
        ({"modulez": {}}, "unknown top-level key 'modulez' (did you mean 'modules'?)"),
        ({"modules": {"toy": {"config": {"marker_dir": "${FK_TEST_SURELY_UNSET}"}}}},
         "modules.toy.config.marker_dir: environment variable FK_TEST_SURELY_UNSET is not set"),
        ({"modules": {"toy": None}, "plugins": {"toy-greter": None}}, "unknown module 'toy-greter' under plugins"),
        ({"modules": {"toy-host": None}, "plugins": {"toy-greeter": {"config": {"x": 1}}}},
         "plugins.toy-greeter.config: plugin 'toy-greeter' takes no config"),
    ],
    ids=["unknown-module", "unknown-entry-key", "unknown-config-key", "unknown-top-level", "unset-var",
         "unknown-plugin", "plugin-config"],
)  # fmt: skip
def test_check_reports_one_line_naming_the_culprit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, culprit: str
) -> None:
    code, out, err = _run(capsys, "check", "--config", _write(tmp_path, data))
    assert code == 1
    assert out == ""
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    assert culprit in err[0]


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.yaml")
    code, _, err = _run(capsys, "check", "--config", missing)
    assert code == 1
    assert len(err) == 1
    assert "nope.yaml" in err[0]


def test_check_duplicate_yaml_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "modules:\n  toy:\nmodules:\n  toy-host:\n")
    code, _, err = _run(capsys, "check", "--config", path)
    assert code == 1
    assert len(err) == 1
    assert "duplicate key 'modules'" in err[0]


def test_check_strict_turns_discovery_issues_into_errors(
    dists: DistFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dists.make("d-broken", 'raise ImportError("half-installed")\n')
    dists.make("d-fine", "from fabrikit.kernel import Manifest, Module, hookimpl\n\n"
                         "class Fine(Module):\n    manifest = Manifest('fine')\n\n"
                         "@hookimpl\ndef fabrikit_modules():\n    return [Fine]\n")  # fmt: skip
    cfg = _write(tmp_path, {"modules": {"fine": None}})
    code, out, err = _run(capsys, "check", "--config", cfg)
    assert (code, out) == (0, "OK: 1 modules, 0 plugins\n")
    assert "warning: load_failed in d-broken:d-broken: ImportError: half-installed" in err
    code, out, err = _run(capsys, "check", "--strict", "--config", cfg)
    assert (code, out) == (1, "")
    assert "error: load_failed in d-broken:d-broken: ImportError: half-installed" in err


@pytest.mark.usefixtures("toy_dist")
def test_check_print_config_redacts_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FK_TEST_TOKEN", "s3cr3t-value")
    data = {"modules": {"toy": None}, "database": {"servers": {"main": {"dsn": "sqlite:///x.db",
            "password": "${FK_TEST_TOKEN}"}}}}  # fmt: skip
    code, out, _ = _run(capsys, "check", "--print-config", "--config", _write(tmp_path, data))
    assert code == 0
    assert "s3cr3t-value" not in out
    assert "[REDACTED]" in out
    assert out.rstrip().endswith("OK: 1 modules, 0 plugins")


@pytest.mark.parametrize("argv", [["frobnicate"], ["check", "--bogus"], ["modules", "--json", "extra"]])
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert any(line.startswith("usage: fabrikit") for line in err)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for command in ("run", "check", "migrate", "modules", "plugins", "types", "openapi"):
        assert command in out


@pytest.mark.usefixtures("toy_dist")
def test_modules_lists_installed_modules_with_enabled_and_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write(tmp_path, {"modules": {"toy-host": None}})
    code, out, _ = _run(capsys, "modules", "--json", "--config", cfg)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["modules"]}
    assert rows["toy"] == {"name": "toy", "version": "0.1.0", "distribution": "fabrikit-toy",
                           "capabilities": ["stateful"], "deps": [], "enabled": False, "order": None}  # fmt: skip
    assert rows["toy-host"]["enabled"] is True
    assert rows["toy-host"]["order"] == 0
    code, out, _ = _run(capsys, "modules", "--config", cfg)
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split()[:3] == ["NAME", "VERSION", "DISTRIBUTION"]
    (toy_line,) = [line for line in lines if line.split()[0] == "toy"]
    assert toy_line.split() == ["toy", "0.1.0", "fabrikit-toy", "stateful", "-", "no"]


@pytest.mark.usefixtures("toy_dist")
def test_plugins_lists_plugins_with_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _write(tmp_path, {"modules": {"toy-host": None}, "plugins": {"toy-greeter": {"priority": 3}}})
    code, out, _ = _run(capsys, "plugins", "--json", "--config", cfg)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["plugins"]}
    assert rows["toy-greeter"] == {
        "name": "toy-greeter", "host": "toy-host", "spec": "gts.x.core.modkit.plugin.v1~x.toy.greeter.plugin.v1~",
        "instance_id": "gts.x.core.modkit.plugin.v1~x.toy.greeter.plugin.v1~acme.toy.greeter.english.v1",
        "vendor": "acme", "priority": 3, "distribution": "fabrikit-toy", "active": True, "skip_reason": None,
    }  # fmt: skip
    cfg = _write(tmp_path, {"modules": {"toy": None}}, "other.yaml")
    code, out, _ = _run(capsys, "plugins", "--config", cfg)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("toy-greeter")]
    assert line.endswith("skipped: host module 'toy-host' is not enabled")
