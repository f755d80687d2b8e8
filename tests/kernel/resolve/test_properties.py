"""K-5.4 properties on random graphs: valid, deterministic, canonical order; cycles reported as real cycles."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from fabrikit.kernel._module import Capability, ModuleInfo
from fabrikit.kernel._resolve import CycleError, ResolutionError, resolve
from tests.strategies.kernel import Graph, cyclic_graphs, dags

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def closure(graph: Graph) -> set[str]:
    """Reference enabled set: configured names plus transitive required deps."""
    by_name = graph.by_name
    enabled: set[str] = set()
    todo = list(graph.configured)
    while todo:
        name = todo.pop()
        if name not in enabled:
            enabled.add(name)
            todo.extend(by_name[name].deps)
    return enabled


def ordering_edges(modules: Mapping[str, ModuleInfo]) -> dict[str, set[str]]:
    """Required deps plus the optional deps that are enabled."""
    return {n: {*m.deps, *(d for d in m.optional_deps if d in modules)} for n, m in modules.items()}


def smallest_topological_order(edges: Mapping[str, set[str]]) -> list[str]:
    """The lexicographically smallest topological order, by its definition: always take the smallest ready name."""
    placed: list[str] = []
    done: set[str] = set()
    while len(placed) < len(edges):
        ready = [n for n in edges if n not in done and edges[n] <= done]
        name = min(ready)
        placed.append(name)
        done.add(name)
    return placed


def is_system(info: ModuleInfo) -> bool:
    return Capability.SYSTEM in info.capabilities


@PROPERTY_SETTINGS
@given(dags())
def test_every_module_starts_after_its_enabled_deps(graph: Graph) -> None:
    resolution = resolve(graph.modules, graph.configured)
    assert set(resolution.order) == closure(graph) == set(resolution.modules)
    assert len(resolution.order) == len(set(resolution.order))
    position = {name: i for i, name in enumerate(resolution.order)}
    for name, deps in ordering_edges(resolution.modules).items():
        assert all(position[d] < position[name] for d in deps), name


@PROPERTY_SETTINGS
@given(dags(), st.randoms(use_true_random=False))
def test_order_is_deterministic_and_independent_of_input_order(graph: Graph, rnd: random.Random) -> None:
    first = resolve(graph.modules, graph.configured)
    assert resolve(graph.modules, graph.configured).order == first.order
    shuffled_modules, shuffled_configured = list(graph.modules), list(graph.configured)
    rnd.shuffle(shuffled_modules)
    rnd.shuffle(shuffled_configured)
    assert resolve(shuffled_modules, shuffled_configured).order == first.order
    assert resolve(reversed(graph.modules), graph.configured).order == first.order


@PROPERTY_SETTINGS
@given(dags(with_system=False))
def test_without_system_modules_the_order_is_the_smallest_topological_order(graph: Graph) -> None:
    resolution = resolve(graph.modules, graph.configured)
    assert list(resolution.order) == smallest_topological_order(ordering_edges(resolution.modules))


@PROPERTY_SETTINGS
@given(dags())
def test_order_is_the_system_first_stable_partition_of_the_smallest_topological_order(graph: Graph) -> None:
    resolution = resolve(graph.modules, graph.configured)
    mods = resolution.modules
    kahn = smallest_topological_order(ordering_edges(mods))
    expected = [n for n in kahn if is_system(mods[n])] + [n for n in kahn if not is_system(mods[n])]
    assert list(resolution.order) == expected
    # System modules depend only on system modules, so their part is itself the smallest order of that subgraph.
    system_part = {n: deps for n, deps in ordering_edges(mods).items() if is_system(mods[n])}
    assert [n for n in resolution.order if is_system(mods[n])] == smallest_topological_order(system_part)


def _edge_set(modules: Sequence[ModuleInfo]) -> set[tuple[str, str]]:
    by_name = {m.name: m for m in modules}
    return {(n, d) for n, deps in ordering_edges(by_name).items() for d in deps}


@PROPERTY_SETTINGS
@given(cyclic_graphs())
def test_an_injected_cycle_is_reported_as_one_real_cycle(graph: Graph) -> None:
    try:
        resolve(graph.modules, graph.configured)
    except ResolutionError as exc:
        errors = exc.errors
    else:
        raise AssertionError("a graph with a cycle resolved")
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, CycleError)
    path = error.path
    assert len(path) >= 2
    assert path[0] == path[-1]
    assert len(set(path[:-1])) == len(path) - 1, "the cycle visits each module once"
    edges = _edge_set(graph.modules)
    assert all((a, b) in edges for a, b in itertools.pairwise(path)), path
    assert str(error) == "dependency cycle: " + " -> ".join(path)


@PROPERTY_SETTINGS
@given(cyclic_graphs(), st.randoms(use_true_random=False))
def test_the_reported_cycle_does_not_depend_on_input_order(graph: Graph, rnd: random.Random) -> None:
    def cycle(modules: Sequence[ModuleInfo], configured: Sequence[str]) -> tuple[str, ...]:
        try:
            resolve(modules, configured)
        except ResolutionError as exc:
            return exc.errors[0].path  # type: ignore[attr-defined, no-any-return]
        raise AssertionError("a graph with a cycle resolved")

    shuffled_modules, shuffled_configured = list(graph.modules), list(graph.configured)
    rnd.shuffle(shuffled_modules)
    rnd.shuffle(shuffled_configured)
    assert cycle(shuffled_modules, shuffled_configured) == cycle(graph.modules, graph.configured)
