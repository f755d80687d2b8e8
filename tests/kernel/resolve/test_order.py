"""K-5.1 enabled set and K-5.4 start order: deps + enabled optional deps, name tie-break, system first."""

from __future__ import annotations

from fabrikit.kernel._module import Capability
from fabrikit.kernel._resolve import resolve

from .helpers import mod

SYSTEM = Capability.SYSTEM


def test_enabled_set_is_configured_plus_transitive_deps() -> None:
    available = [mod("a", "b"), mod("b", "c"), mod("c"), mod("unused")]
    resolution = resolve(available, ["a"])
    assert set(resolution.modules) == {"a", "b", "c"}
    assert resolution.order == ("c", "b", "a")


def test_optional_deps_never_enable() -> None:
    available = [mod("a", optional=["b"]), mod("b", "c"), mod("c")]
    resolution = resolve(available, ["a"])
    assert set(resolution.modules) == {"a"}
    assert resolution.order == ("a",)


def test_enabled_optional_dep_orders_the_graph() -> None:
    # Without the optional edge the name tie-break would start 'a' first.
    available = [mod("a", optional=["b"]), mod("b")]
    assert resolve(available, ["a", "b"]).order == ("b", "a")


def test_optional_dep_enabled_as_someone_elses_dep_orders_the_graph() -> None:
    available = [mod("a", optional=["z"]), mod("m", "z"), mod("z")]
    assert resolve(available, ["a", "m"]).order == ("z", "a", "m")


def test_disabled_optional_dep_does_not_order() -> None:
    available = [mod("a", optional=["b"]), mod("b"), mod("c")]
    assert resolve(available, ["a", "c"]).order == ("a", "c")


def test_ties_break_on_name_not_on_configuration_or_install_order() -> None:
    available = [mod("zeta"), mod("alpha"), mod("mid", "zeta")]
    for configured in (["zeta", "alpha", "mid"], ["mid", "alpha", "zeta"]):
        assert resolve(available, configured).order == ("alpha", "zeta", "mid")
        assert resolve(available[::-1], configured).order == ("alpha", "zeta", "mid")


def test_kahn_picks_the_smallest_ready_name_at_each_step() -> None:
    # 'b' becomes ready only after 'd'; 'c' is ready from the start and smaller than 'e'.
    available = [mod("b", "d"), mod("c"), mod("d"), mod("e")]
    assert resolve(available, ["b", "c", "e"]).order == ("c", "d", "b", "e")


def test_system_modules_come_first_and_stay_dependency_correct() -> None:
    available = [
        mod("a-app"),
        mod("b-app", "y-sys"),
        mod("y-sys", "z-sys", caps=[SYSTEM]),
        mod("z-sys", caps=[SYSTEM]),
    ]
    assert resolve(available, ["a-app", "b-app"]).order == ("z-sys", "y-sys", "a-app", "b-app")


def test_system_first_is_a_stable_partition_of_the_kahn_order() -> None:
    # Kahn order: a, c, z, b; system first moves z ahead and keeps a, c, b in their Kahn order.
    available = [mod("a"), mod("b", "z"), mod("c"), mod("z", caps=[SYSTEM])]
    assert resolve(available, ["a", "b", "c"]).order == ("z", "a", "c", "b")


def test_duplicate_dependency_entries_are_harmless() -> None:
    available = [mod("a", "b", "b", optional=["b"]), mod("b")]
    assert resolve(available, ["a"]).order == ("b", "a")
