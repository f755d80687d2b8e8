"""K-3 discovery through REAL entry points of throwaway distributions (dist-info folders on sys.path)."""

from __future__ import annotations

import importlib.metadata as md
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import DiscoveryIssue, DuplicateModuleError, Manifest, Module, ResolutionError, discover
from fabrikit.kernel._runtime import build_plan
from fabrikit.kernel.plugins import PluginDef
from fabrikit.kernel.testing import make_config
from tests.fixtures.dists import DistFactory

from . import sources


def _issues(found, kind: str) -> list[DiscoveryIssue]:  # type: ignore[no-untyped-def]
    return [i for i in found.issues if i.kind == kind]


def _modules(found) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.name: m.distribution for m in found.modules}


def test_global_discovery_finds_a_dist_info_on_sys_path(dists: DistFactory) -> None:
    dists.make("d-good", sources.module_source("good-mod", version="2.1.0"))
    eps = [ep for ep in md.entry_points(group="fabrikit") if ep.dist is not None and ep.dist.name == "d-good"]
    assert [ep.name for ep in eps] == ["d-good"]
    found = discover(env={})
    (src,) = found.module_sources("good-mod")
    assert src.distribution == "d-good"
    assert src.manifest.version == "2.1.0"
    assert not [i for i in found.issues if i.distribution == "d-good"]


def test_broken_entry_point_is_reported_and_others_still_load(dists: DistFactory) -> None:
    a = dists.make("d-a", sources.module_source("alpha"))
    broken = dists.make("d-broken", sources.BROKEN_IMPORT)
    z = dists.make("d-z", sources.module_source("zulu"))
    found = discover(entry_points=[*z.entry_points(), *broken.entry_points(), *a.entry_points()], env={})
    assert _modules(found) == {"alpha": "d-a", "zulu": "d-z"}
    (issue,) = found.issues
    assert (issue.distribution, issue.entry_point, issue.kind) == ("d-broken", "d-broken", "load_failed")
    assert issue.message == "ImportError: cannot import name 'gone' from 'somewhere'"
    assert str(issue).startswith("load_failed in d-broken:d-broken: ImportError")


def test_unknown_hook_unregisters_its_plugin_and_check_pending_passes(dists: DistFactory) -> None:
    ghost = dists.make("d-ghost", sources.UNKNOWN_HOOK)
    good = dists.make("d-good", sources.module_source("good"))
    found = discover(entry_points=[*ghost.entry_points(), *good.entry_points()], env={})
    (issue,) = found.issues
    assert (issue.distribution, issue.entry_point, issue.kind) == ("d-ghost", "d-ghost", "unknown_hook")
    assert "fabrikit_modulez" in issue.message
    # the whole plugin object is unregistered, so its valid fabrikit_modules impl contributes nothing
    assert _modules(found) == {"good": "d-good"}


def test_optional_unknown_hook_is_not_an_issue(dists: DistFactory) -> None:
    future = dists.make("d-future", sources.OPTIONAL_UNKNOWN_HOOK)
    found = discover(entry_points=future.entry_points(), env={})
    assert found.issues == []
    assert _modules(found) == {"future": "d-future"}


def test_raising_hook_is_reported_and_other_impls_still_collected(dists: DistFactory) -> None:
    # 'd-a' sorts before and 'd-z' after the raising distribution: neither may be lost.
    a = dists.make("d-a", sources.module_source("alpha"))
    bad = dists.make("d-m", sources.RAISING_HOOK)
    z = dists.make("d-z", sources.module_source("zulu"))
    found = discover(entry_points=[*a.entry_points(), *bad.entry_points(), *z.entry_points()], env={})
    assert _modules(found) == {"alpha": "d-a", "zulu": "d-z"}
    (issue,) = found.issues
    assert (issue.distribution, issue.kind) == ("d-m", "hook_failed")
    assert issue.message == "fabrikit_modules: RuntimeError: config file missing"


def test_invalid_hookimpl_and_non_module_are_issues(dists: DistFactory) -> None:
    sig = dists.make("d-sig", sources.BAD_SIGNATURE)
    nope = dists.make("d-nope", sources.NOT_A_MODULE)
    good = dists.make("d-good", sources.module_source("good"))
    found = discover(entry_points=[*sig.entry_points(), *nope.entry_points(), *good.entry_points()], env={})
    assert _modules(found) == {"good": "d-good"}
    assert [(i.distribution, i.kind) for i in found.issues] == [
        ("d-sig", "invalid_hookimpl"),
        ("d-nope", "invalid_module"),
    ]
    assert "unexpected" in found.issues[0].message


def test_repeated_entry_point_is_reported_once(dists: DistFactory) -> None:
    good = dists.make("d-good", sources.module_source("good"))
    found = discover(entry_points=[*good.entry_points(), *good.entry_points()], env={})
    assert _modules(found) == {"good": "d-good"}
    assert [(i.distribution, i.kind) for i in found.issues] == [("d-good", "duplicate_entry_point")]


def test_duplicate_module_names_are_an_issue(dists: DistFactory) -> None:
    one = dists.make("d-one", sources.module_source("dup"))
    two = dists.make("d-two", sources.module_source("dup"))
    found = discover(entry_points=[*two.entry_points(), *one.entry_points()], env={})
    assert [m.distribution for m in found.module_sources("dup")] == ["d-one", "d-two"]
    (issue,) = _issues(found, "duplicate_module")
    assert issue.distribution == "d-two"
    assert "module 'dup' also provided by d-one" in issue.message


def test_enabled_duplicate_module_is_fatal_naming_both_distributions(
    dists: DistFactory, tmp_path: Path
) -> None:
    dists.make("d-one", sources.module_source("dup"))
    dists.make("d-two", sources.module_source("dup"))
    dists.make("d-other", sources.module_source("other"))
    # not enabled: only an issue
    plan = build_plan(make_config({"modules": {"other": None}}, home=tmp_path))
    assert any(i.kind == "duplicate_module" for i in plan.issues)
    with pytest.raises(ResolutionError) as info:
        build_plan(make_config({"modules": {"dup": None}}, home=tmp_path))
    (error,) = info.value.errors
    assert isinstance(error, DuplicateModuleError)
    assert set(error.distributions) == {"d-one", "d-two"}
    assert "d-one" in str(info.value)
    assert "d-two" in str(info.value)


def test_load_plugins_env_limits_distributions_but_fabrikit_always_loads(
    dists: DistFactory, tmp_path: Path
) -> None:
    own = dists.make("fabrikit", sources.module_source("built-in"), info_root=tmp_path / "off-path")
    d1 = dists.make("d1", sources.module_source("one"))
    d2 = dists.make("d2", sources.module_source("two"))
    eps = [*own.entry_points(), *d1.entry_points(), *d2.entry_points()]
    assert {ep.dist.name for ep in eps if ep.dist is not None} == {"fabrikit", "d1", "d2"}
    found = discover(entry_points=eps, env={"FABRIKIT_LOAD_PLUGINS": "d1"})
    assert _modules(found) == {"built-in": "fabrikit", "one": "d1"}
    assert d2.package not in sys.modules, "an excluded distribution is never imported"
    everything = discover(entry_points=eps, env={})
    assert _modules(everything) == {"built-in": "fabrikit", "one": "d1", "two": "d2"}
    two = discover(entry_points=eps, env={"FABRIKIT_LOAD_PLUGINS": " d2 , d1 "})
    assert set(_modules(two)) == {"built-in", "one", "two"}


def test_load_plugins_env_with_installed_distributions(dists: DistFactory) -> None:
    dists.make("d1", sources.module_source("one"))
    d2 = dists.make("d2", sources.module_source("two"))
    found = discover(env={"FABRIKIT_LOAD_PLUGINS": "d1"})
    assert found.module_sources("one")
    assert not found.module_sources("two")
    assert {m.distribution for m in found.modules} <= {"d1", "fabrikit"}
    assert d2.package not in sys.modules


def test_plugin_registration_gets_read_only_config_and_records_distribution(dists: DistFactory) -> None:
    d = dists.make("d-plugins", sources.PLUGINS.format(names=["p-b", "p-a"]))
    bad = dists.make("d-bad", sources.RAISING_PLUGINS)
    found = discover(entry_points=[*bad.entry_points(), *d.entry_points()], env={},
                     plugin_config={"p-a": {"priority": 1}})  # fmt: skip
    assert [(p.definition.name, p.distribution) for p in found.plugins] == [
        ("p-b", "d-plugins"),
        ("p-a", "d-plugins"),
    ]
    (issue,) = found.issues
    assert (issue.distribution, issue.kind) == ("d-bad", "hook_failed")
    assert "register() expects a PluginDef, got str" in issue.message
    (config,) = sys.modules[d.package].SEEN_CONFIG
    assert config["p-a"] == {"priority": 1}
    with pytest.raises(TypeError):
        config["p-c"] = {}


def test_duplicate_plugin_names_are_an_issue(dists: DistFactory) -> None:
    one = dists.make("d-one", sources.PLUGINS.format(names=["same"]))
    two = dists.make("d-two", sources.PLUGINS.format(names=["same"]))
    found = discover(entry_points=[*one.entry_points(), *two.entry_points()], env={})
    (issue,) = _issues(found, "duplicate_plugin")
    assert issue.distribution == "d-two"
    assert "plugin 'same' also provided by d-one" in issue.message


def test_without_entry_points_only_extra_objects_register(dists: DistFactory) -> None:
    d = dists.make("d-installed", sources.module_source("installed"))

    class Local(Module):
        manifest = Manifest("local")

    spec = "gts.x.core.modkit.plugin.v1~x.test.disc.plugin.v1~"
    local_plugin = PluginDef("local-p", host="local", spec_id=spec, instance_id=spec + "acme.test.disc.local.v1",
                             factory=lambda pctx: object())  # fmt: skip
    found = discover(load_entry_points=False, extra=[Local, local_plugin], env={})
    assert _modules(found) == {"local": "<extra>"}
    assert [p.definition.name for p in found.plugins] == ["local-p"]
    assert d.package not in sys.modules


async def test_runtime_logs_discovery_issues_and_still_starts(dists: DistFactory, tmp_path: Path) -> None:
    from fabrikit.kernel import Runtime

    dists.make("d-broken", sources.BROKEN_IMPORT)
    dists.make("d-good", sources.module_source("good"))
    rt = Runtime(make_config({"modules": {"good": None}}, home=tmp_path))
    with capture_logs() as logs:
        async with rt.started():
            assert rt.is_ready()
    issues = [e for e in logs if e["event"] == "discovery_issue" and e["distribution"] == "d-broken"]
    assert [(e["kind"], e["log_level"]) for e in issues] == [("load_failed", "warning")]
    assert rt.records["good"].distribution == "d-good"
