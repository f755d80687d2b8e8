"""K-5.1 … K-5.3: every resolution error, its exact message, and 'all errors of the first failing step'."""

from __future__ import annotations

import pytest

from fabrikit.kernel._module import Capability, Manifest, Module, ModuleInfo, ModuleSource
from fabrikit.kernel._resolve import (
    CycleError,
    DuplicateModuleError,
    IncompatibleDependencyError,
    MultipleRestHostsError,
    NoModulesEnabledError,
    ResolutionError,
    RestHostDependencyError,
    RestRequiresHostError,
    SystemDependencyError,
    UnknownDependencyError,
    UnknownModuleError,
    resolve,
)

from .helpers import messages, mod, resolve_errors

REST = Capability.REST
HOST = Capability.REST_HOST
SYSTEM = Capability.SYSTEM

INSTALLED = [
    mod("api-gateway", caps=[HOST]),
    mod("authn-resolver"),
    mod("mini-chat", "authn-resolver"),
    mod("oagw"),
]


# --- K-5.1: nothing enabled ---------------------------------------------------------------------


def test_no_modules_enabled_lists_installed() -> None:
    errors = resolve_errors(INSTALLED, [])
    assert [type(e) for e in errors] == [NoModulesEnabledError]
    assert str(errors[0]) == (
        "no modules enabled; list at least one under 'modules:' "
        "(installed: api-gateway, authn-resolver, mini-chat, oagw)"
    )


def test_no_modules_installed_says_none() -> None:
    assert messages([], []) == ["no modules enabled; list at least one under 'modules:' (installed: (none))"]


def test_empty_configuration_is_allowed_when_not_required() -> None:
    resolution = resolve(INSTALLED, [], require_any=False)
    assert resolution.order == ()
    assert dict(resolution.modules) == {}


# --- check 1: duplicates ------------------------------------------------------------------------


def test_duplicate_module_names_both_distributions_sorted() -> None:
    available = [mod("mini-chat", dist="fabrikit-z"), mod("mini-chat", dist="fabrikit-a")]
    errors = resolve_errors(available, ["mini-chat"])
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, DuplicateModuleError)
    assert (error.name, error.distributions) == ("mini-chat", ("fabrikit-a", "fabrikit-z"))
    assert str(error) == "module 'mini-chat' is provided by several distributions: fabrikit-a, fabrikit-z"


def test_duplicate_reached_only_through_a_dependency_is_reported() -> None:
    available = [mod("a", "b"), mod("b", dist="d1"), mod("b", dist="d2")]
    assert messages(available, ["a"]) == ["module 'b' is provided by several distributions: d1, d2"]


def test_duplicate_that_is_not_enabled_is_ignored() -> None:
    available = [mod("a"), mod("b", dist="d1"), mod("b", dist="d2")]
    assert resolve(available, ["a"]).order == ("a",)


def test_duplicate_detection_does_not_depend_on_which_distribution_comes_first() -> None:
    # Only the second distribution of 'a' pulls in 'c', itself duplicated.
    available = [mod("a", dist="d1"), mod("a", "c", dist="d2"), mod("c", dist="d1"), mod("c", dist="d2")]
    expected = {"a", "c"}
    assert {e.name for e in resolve_errors(available, ["a"])} == expected  # type: ignore[attr-defined]
    assert {e.name for e in resolve_errors(available[::-1], ["a"])} == expected  # type: ignore[attr-defined]


def test_duplicates_are_reported_before_unknown_names() -> None:
    available = [mod("a", dist="d1"), mod("a", dist="d2")]
    assert [type(e) for e in resolve_errors(available, ["a", "nope"])] == [DuplicateModuleError]


# --- check 2: unknown configured names (K-5.2) --------------------------------------------------


def test_unknown_module_suggests_the_closest_installed_name() -> None:
    errors = resolve_errors(INSTALLED, ["mini-caht"])
    assert len(errors) == 1
    assert isinstance(errors[0], UnknownModuleError)
    assert errors[0].name == "mini-caht"
    assert str(errors[0]) == (
        "unknown module 'mini-caht' under modules: (did you mean 'mini-chat'?); "
        "installed: api-gateway, authn-resolver, mini-chat, oagw"
    )


def test_unknown_module_without_a_close_match_has_no_suggestion() -> None:
    assert messages(INSTALLED, ["zzzzzz"]) == [
        "unknown module 'zzzzzz' under modules:; installed: api-gateway, authn-resolver, mini-chat, oagw"
    ]


def test_all_unknown_modules_are_reported_in_name_order() -> None:
    errors = resolve_errors(INSTALLED, ["oagw", "mini-caht", "authn-reslover"])
    assert all(isinstance(e, UnknownModuleError) for e in errors)
    assert [e.name for e in errors] == ["authn-reslover", "mini-caht"]  # type: ignore[attr-defined]
    assert "(did you mean 'authn-resolver'?)" in str(errors[0])


def test_an_unknown_name_configured_twice_is_reported_once() -> None:
    assert len(resolve_errors(INSTALLED, ["nope", "nope"])) == 1


def test_unknown_plugin_message_names_its_section() -> None:
    error = UnknownModuleError("mock-lm", ["mock-llm"], section="plugins")
    assert (
        str(error)
        == "unknown module 'mock-lm' under plugins: (did you mean 'mock-llm'?); installed: mock-llm"
    )


def test_unknown_module_is_reported_before_later_steps() -> None:
    available = [*INSTALLED, mod("cyc", "cyc")]
    assert [type(e) for e in resolve_errors(available, ["cyc", "nope"])] == [UnknownModuleError]


def test_resolution_error_message_joins_all_errors() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve(INSTALLED, ["x1", "x2"])
    assert str(info.value) == "\n".join(str(e) for e in info.value.errors)
    assert len(info.value.errors) == 2


# --- check 3: unknown dependency ----------------------------------------------------------------


def test_unknown_dependency() -> None:
    errors = resolve_errors([mod("a", "ghost")], ["a"])
    assert len(errors) == 1
    assert isinstance(errors[0], UnknownDependencyError)
    assert (errors[0].module, errors[0].depends_on) == ("a", "ghost")
    assert str(errors[0]) == "module 'a' depends on 'ghost', which is not installed"


def test_unknown_dependency_suggests_a_close_installed_name() -> None:
    assert messages([mod("a", "oagv"), mod("oagw")], ["a"]) == [
        "module 'a' depends on 'oagv', which is not installed (did you mean 'oagw'?)"
    ]


def test_all_unknown_dependencies_are_reported_including_transitive_ones() -> None:
    available = [mod("a", "b", "ghost-1"), mod("b", "ghost-2")]
    errors = resolve_errors(available, ["a"])
    assert {(e.module, e.depends_on) for e in errors} == {("a", "ghost-1"), ("b", "ghost-2")}  # type: ignore[attr-defined]


def test_missing_optional_dependency_is_not_an_error() -> None:
    assert resolve([mod("a", optional=["ghost"])], ["a"]).order == ("a",)


# --- check 4: version specifiers ----------------------------------------------------------------


def _info(
    name: str, version: str = "0.1.0", deps: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> ModuleInfo:
    """Goes through a real Module class so the manifest's specifier parsing is exercised too."""
    cls = type(
        name.title().replace("-", ""), (Module,), {"manifest": Manifest(name, version, deps, optional)}
    )
    return ModuleInfo.from_source(ModuleSource(cls, distribution="test"))


def test_incompatible_dependency_version() -> None:
    available = [_info("mini-chat", deps=("oagw>=0.2",)), _info("oagw", version="0.1.0")]
    errors = resolve_errors(available, ["mini-chat"])
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, IncompatibleDependencyError)
    assert (error.module, error.depends_on, error.required, error.found) == (
        "mini-chat",
        "oagw",
        ">=0.2",
        "0.1.0",
    )
    assert str(error) == "module 'mini-chat' needs 'oagw>=0.2', found version 0.1.0"


def test_compatible_dependency_version_resolves() -> None:
    available = [_info("mini-chat", deps=("oagw>=0.2,<1",)), _info("oagw", version="0.2.0")]
    assert resolve(available, ["mini-chat"]).order == ("oagw", "mini-chat")


def test_optional_dependency_version_is_checked_only_when_enabled() -> None:
    available = [_info("a", optional=("b>=2",)), _info("b", version="1.0")]
    assert resolve(available, ["a"]).order == ("a",)
    assert messages(available, ["a", "b"]) == ["module 'a' needs 'b>=2', found version 1.0"]


def test_invalid_specifier_is_reported_as_incompatible() -> None:
    available = [_info("a", deps=("b>>1",)), _info("b", version="1.0")]
    assert [type(e) for e in resolve_errors(available, ["a"])] == [IncompatibleDependencyError]


def test_all_version_errors_are_reported() -> None:
    available = [_info("a", deps=("b>=2", "c<1")), _info("b", "1.0"), _info("c", "1.0")]
    assert messages(available, ["a"]) == [
        "module 'a' needs 'b>=2', found version 1.0",
        "module 'a' needs 'c<1', found version 1.0",
    ]


# --- check 5 and 6: rest hosts ------------------------------------------------------------------


def test_multiple_rest_hosts() -> None:
    available = [mod("gw-b", caps=[HOST]), mod("gw-a", caps=[HOST])]
    errors = resolve_errors(available, ["gw-b", "gw-a"])
    assert len(errors) == 1
    assert isinstance(errors[0], MultipleRestHostsError)
    assert errors[0].hosts == ("gw-a", "gw-b")
    assert str(errors[0]) == "only one rest_host module may be enabled, found: gw-a, gw-b"


def test_rest_modules_without_host_are_listed_with_the_gateway_hint() -> None:
    available = [mod("b-api", caps=[REST]), mod("a-api", caps=[REST]), mod("plain"), *INSTALLED]
    errors = resolve_errors(available, ["b-api", "a-api", "plain"])
    assert len(errors) == 1
    assert isinstance(errors[0], RestRequiresHostError)
    assert errors[0].modules == ("a-api", "b-api")
    assert str(errors[0]) == (
        "modules with the 'rest' capability need a rest_host: a-api, b-api (hint: enable 'api-gateway')"
    )


def test_rest_modules_with_a_host_resolve_and_the_host_is_known() -> None:
    available = [mod("a-api", caps=[REST]), *INSTALLED]
    resolution = resolve(available, ["a-api", "api-gateway"])
    assert resolution.rest_host == "api-gateway"
    assert resolve(available, ["oagw"]).rest_host is None


def test_a_host_that_also_declares_rest_does_not_need_another_host() -> None:
    assert resolve([mod("gw", caps=[HOST, REST])], ["gw"]).order == ("gw",)


# --- check 7: system modules --------------------------------------------------------------------


def test_system_module_depending_on_a_non_system_one() -> None:
    available = [mod("sys", "plain", caps=[SYSTEM]), mod("plain")]
    errors = resolve_errors(available, ["sys"])
    assert len(errors) == 1
    assert isinstance(errors[0], SystemDependencyError)
    assert (errors[0].module, errors[0].depends_on) == ("sys", "plain")
    assert str(errors[0]) == "system module 'sys' depends on non-system module 'plain'"


def test_system_module_with_an_enabled_non_system_optional_dep() -> None:
    available = [mod("sys", optional=["plain"], caps=[SYSTEM]), mod("plain")]
    assert messages(available, ["sys", "plain"]) == [
        "system module 'sys' depends on non-system module 'plain'"
    ]


def test_system_module_with_a_disabled_non_system_optional_dep_is_fine() -> None:
    available = [mod("sys", optional=["plain"], caps=[SYSTEM]), mod("plain")]
    assert resolve(available, ["sys"]).order == ("sys",)


def test_all_system_dependency_errors_are_reported() -> None:
    available = [mod("s1", "p", caps=[SYSTEM]), mod("s2", "p", "q", caps=[SYSTEM]), mod("p"), mod("q")]
    assert {(e.module, e.depends_on) for e in resolve_errors(available, ["s1", "s2"])} == {  # type: ignore[attr-defined]
        ("s1", "p"),
        ("s2", "p"),
        ("s2", "q"),
    }


# --- check 8: depending on the rest host --------------------------------------------------------


def test_module_depending_on_the_rest_host() -> None:
    available = [mod("a", "api-gateway"), *INSTALLED]
    errors = resolve_errors(available, ["a"])
    assert len(errors) == 1
    assert isinstance(errors[0], RestHostDependencyError)
    assert (errors[0].module, errors[0].host) == ("a", "api-gateway")
    assert str(errors[0]) == "module 'a' depends on the rest_host 'api-gateway'; the host starts last"


def test_module_optionally_depending_on_an_enabled_rest_host() -> None:
    available = [mod("a", optional=["api-gateway"]), *INSTALLED]
    assert [type(e) for e in resolve_errors(available, ["a", "api-gateway"])] == [RestHostDependencyError]
    assert resolve(available, ["a"]).order == ("a",)


# --- check 9: cycles ----------------------------------------------------------------------------


def test_two_module_cycle_with_its_path() -> None:
    errors = resolve_errors([mod("a", "b"), mod("b", "a")], ["a"])
    assert len(errors) == 1
    assert isinstance(errors[0], CycleError)
    assert errors[0].path == ("a", "b", "a")
    assert str(errors[0]) == "dependency cycle: a -> b -> a"


def test_self_cycle() -> None:
    assert messages([mod("a", "a")], ["a"]) == ["dependency cycle: a -> a"]


def test_cycle_path_excludes_the_tail_leading_into_it() -> None:
    # 'a' leads into the cycle but is not on it; the DFS starts at 'a' (name order), enters the cycle at 'c',
    # and reports the cycle from where it was entered.
    available = [mod("a", "c"), mod("b", "c"), mod("c", "d"), mod("d", "b")]
    assert messages(available, ["a"]) == ["dependency cycle: c -> d -> b -> c"]


def test_cycle_through_an_enabled_optional_dep() -> None:
    available = [mod("a", "b"), mod("b", optional=["a"])]
    assert messages(available, ["a"]) == ["dependency cycle: a -> b -> a"]


def test_disabled_optional_dep_cannot_close_a_cycle() -> None:
    available = [mod("a", optional=["b"]), mod("b", "a")]
    assert resolve(available, ["a"]).order == ("a",)
