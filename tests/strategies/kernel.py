"""Hypothesis strategies for the kernel: random module graphs for the resolver (K-5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from fabrikit.kernel._module import Capability, ModuleInfo

SYSTEM = frozenset({Capability.SYSTEM})

module_names = st.from_regex(r"[a-z][a-z0-9]{0,3}(-[a-z0-9]{1,3}){0,2}", fullmatch=True)


@dataclass(frozen=True)
class Graph:
    """A set of installed modules and the names configured under ``modules:``."""

    modules: tuple[ModuleInfo, ...]
    configured: tuple[str, ...]

    @property
    def by_name(self) -> dict[str, ModuleInfo]:
        return {m.name: m for m in self.modules}


def consistent_system_flags(
    candidates: Mapping[str, bool], edges: Mapping[str, Sequence[str]]
) -> dict[str, bool]:
    """Drops the system flag from every module that (transitively) depends on a non-system one (check 7)."""
    system = dict(candidates)
    changed = True
    while changed:
        changed = False
        for name, deps in edges.items():
            if system[name] and not all(system[d] for d in deps):
                system[name] = False
                changed = True
    return system


def _build(
    names: Sequence[str],
    deps: Mapping[str, list[str]],
    optional: Mapping[str, list[str]],
    flags: Sequence[bool],
) -> tuple[ModuleInfo, ...]:
    edges = {n: [*deps[n], *optional[n]] for n in names}
    system = consistent_system_flags(dict(zip(names, flags, strict=True)), edges)
    return tuple(
        ModuleInfo(
            name=n,
            deps=tuple(deps[n]),
            optional_deps=tuple(optional[n]),
            capabilities=SYSTEM if system[n] else frozenset(),
        )
        for n in names
    )


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 40, with_system: bool = True) -> Graph:
    """A random DAG: module ``i`` may depend (required or optionally) only on modules ``j < i``.

    System flags are random but made consistent with check 7, and a random non-empty subset is configured, so
    optional deps are sometimes enabled and sometimes not.
    """
    names = draw(st.lists(module_names, min_size=1, max_size=max_nodes, unique=True))
    deps: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        earlier = st.sampled_from(names[:i]) if i else st.nothing()
        deps[name] = draw(st.lists(earlier, max_size=min(i, 4), unique=True))
        optional[name] = [
            d for d in draw(st.lists(earlier, max_size=min(i, 2), unique=True)) if d not in deps[name]
        ]
    flags = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names))) if with_system else []
    modules = _build(names, deps, optional, flags or [False] * len(names))
    configured = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    return Graph(modules=modules, configured=tuple(configured))


@st.composite
def cyclic_graphs(draw: st.DrawFn, max_nodes: int = 40) -> Graph:
    """A random DAG plus one back edge (possibly a self-loop, possibly optional) that closes a cycle.

    Every module is configured so the cycle is always inside the enabled set.
    """
    dag = draw(dags(max_nodes=max_nodes, with_system=False))
    names = [m.name for m in dag.modules]
    deps = {m.name: list(m.deps) for m in dag.modules}
    optional = {m.name: list(m.optional_deps) for m in dag.modules}
    low = draw(st.integers(0, len(names) - 1))
    high = draw(st.integers(low, len(names) - 1))
    lo, hi = names[low], names[high]
    if lo != hi and lo not in deps[hi] and lo not in optional[hi]:
        deps[hi].append(lo)  # guarantees a path hi -> lo
    # Edges only point to lower indices, so lo cannot depend on hi yet: lo -> hi closes the cycle.
    back = optional if draw(st.booleans()) else deps
    back[lo].append(hi)  # a self-loop when lo == hi
    flags = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    return Graph(modules=_build(names, deps, optional, flags), configured=tuple(names))
