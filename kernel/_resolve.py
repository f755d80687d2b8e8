"""Enabled set, graph checks and start order (K-5). Deterministic: ties break on module name."""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ._module import Capability, ModuleInfo


class ResolveError(Exception):
    """One problem in the module graph."""


class DuplicateModuleError(ResolveError):
    def __init__(self, name: str, distributions: Sequence[str]) -> None:
        self.name, self.distributions = name, tuple(distributions)
        super().__init__(
            f"module '{name}' is provided by several distributions: {', '.join(self.distributions)}"
        )


class UnknownModuleError(ResolveError):
    def __init__(self, name: str, installed: Sequence[str], section: str = "modules") -> None:
        self.name, self.installed = name, tuple(installed)
        close = difflib.get_close_matches(name, installed, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        super().__init__(
            f"unknown module '{name}' under {section}:{hint}; installed: {', '.join(installed) or '(none)'}"
        )


class UnknownDependencyError(ResolveError):
    def __init__(self, module: str, depends_on: str, installed: Sequence[str] = ()) -> None:
        self.module, self.depends_on = module, depends_on
        close = difflib.get_close_matches(depends_on, installed, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        super().__init__(f"module '{module}' depends on '{depends_on}', which is not installed{hint}")


class IncompatibleDependencyError(ResolveError):
    def __init__(self, module: str, depends_on: str, required: str, found: str) -> None:
        self.module, self.depends_on, self.required, self.found = module, depends_on, required, found
        super().__init__(f"module '{module}' needs '{depends_on}{required}', found version {found}")


class MultipleRestHostsError(ResolveError):
    def __init__(self, hosts: Sequence[str]) -> None:
        self.hosts = tuple(hosts)
        super().__init__(f"only one rest_host module may be enabled, found: {', '.join(self.hosts)}")


class RestRequiresHostError(ResolveError):
    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = tuple(modules)
        super().__init__(
            f"modules with the 'rest' capability need a rest_host: {', '.join(self.modules)} "
            "(hint: enable 'api-gateway')"
        )


class SystemDependencyError(ResolveError):
    def __init__(self, module: str, depends_on: str) -> None:
        self.module, self.depends_on = module, depends_on
        super().__init__(f"system module '{module}' depends on non-system module '{depends_on}'")


class RestHostDependencyError(ResolveError):
    def __init__(self, module: str, host: str) -> None:
        self.module, self.host = module, host
        super().__init__(f"module '{module}' depends on the rest_host '{host}'; the host starts last")


class CycleError(ResolveError):
    def __init__(self, path: Sequence[str]) -> None:
        self.path = tuple(path)
        super().__init__(f"dependency cycle: {' -> '.join(self.path)}")


class NoModulesEnabledError(ResolveError):
    def __init__(self, installed: Sequence[str]) -> None:
        super().__init__(
            f"no modules enabled; list at least one under 'modules:' (installed: {', '.join(installed) or '(none)'})"
        )


class ResolutionError(Exception):
    """All errors of the first failing check step (K-5.3)."""

    def __init__(self, errors: Sequence[ResolveError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class Resolution:
    order: tuple[str, ...]  # system-first, dependency-respecting
    modules: Mapping[str, ModuleInfo]

    @property
    def rest_host(self) -> str | None:
        return next((n for n in self.order if Capability.REST_HOST in self.modules[n].capabilities), None)


def resolve(
    available: Iterable[ModuleInfo],
    configured: Sequence[str],
    *,
    require_any: bool = True,
) -> Resolution:
    """Computes the enabled set (configured + transitive deps) and its start order, or raises ResolutionError."""
    by_name: dict[str, list[ModuleInfo]] = {}
    for info in available:
        by_name.setdefault(info.name, []).append(info)
    installed = sorted(by_name)
    if require_any and not configured:
        raise ResolutionError([NoModulesEnabledError(installed)])

    # 2 (unknown configured names) must be known before 1 can look at the enabled set.
    unknown = [UnknownModuleError(n, installed) for n in sorted(set(configured)) if n not in by_name]
    enabled, missing_deps = _closure([n for n in configured if n in by_name], by_name)
    _raise(
        [
            DuplicateModuleError(n, sorted(i.distribution for i in by_name[n]))
            for n in enabled
            if len(by_name[n]) > 1
        ]
    )
    _raise(unknown)
    _raise([UnknownDependencyError(m, d, installed) for m, d in missing_deps])
    mods = {n: by_name[n][0] for n in enabled}
    _raise(_version_errors(mods))
    hosts = sorted(n for n, i in mods.items() if Capability.REST_HOST in i.capabilities)
    _raise([MultipleRestHostsError(hosts)] if len(hosts) > 1 else [])
    rest_mods = sorted(
        n
        for n, i in mods.items()
        if Capability.REST in i.capabilities and Capability.REST_HOST not in i.capabilities
    )
    _raise([RestRequiresHostError(rest_mods)] if rest_mods and not hosts else [])
    _raise(_system_errors(mods))
    _raise(
        [
            RestHostDependencyError(n, d)
            for n, i in sorted(mods.items())
            for d in _edges(i, mods)
            if d in hosts
        ]
    )
    order = _kahn(mods)
    system = [n for n in order if Capability.SYSTEM in mods[n].capabilities]
    others = [n for n in order if Capability.SYSTEM not in mods[n].capabilities]
    return Resolution(order=tuple(system + others), modules=mods)


def _raise(errors: Sequence[ResolveError]) -> None:
    if errors:
        raise ResolutionError(errors)


def _closure(
    roots: Sequence[str], by_name: Mapping[str, list[ModuleInfo]]
) -> tuple[list[str], list[tuple[str, str]]]:
    enabled: dict[str, None] = {}
    missing: list[tuple[str, str]] = []
    stack = sorted(set(roots), reverse=True)
    while stack:
        name = stack.pop()
        if name in enabled:
            continue
        enabled[name] = None
        # Every distribution of a duplicated name contributes, so the duplicates found do not depend on input order.
        for dep in dict.fromkeys(d for info in by_name[name] for d in info.deps):
            if dep not in by_name:
                missing.append((name, dep))
            elif dep not in enabled:
                stack.append(dep)
    return sorted(enabled), missing


def _edges(info: ModuleInfo, mods: Mapping[str, ModuleInfo]) -> list[str]:
    """Dependencies that order this module: deps plus optional deps that are enabled."""
    return [*info.deps, *(d for d in info.optional_deps if d in mods and d not in info.deps)]


def _version_errors(mods: Mapping[str, ModuleInfo]) -> list[ResolveError]:
    errors: list[ResolveError] = []
    specs = [(n, d, s) for n, i in sorted(mods.items()) for d, s in sorted(i.dep_specs.items()) if d in mods]
    if not specs:
        return errors
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for name, dep, spec in specs:
        try:
            ok = SpecifierSet(spec).contains(mods[dep].version, prereleases=True)
        except InvalidSpecifier:
            ok = False
        if not ok:
            errors.append(IncompatibleDependencyError(name, dep, spec, mods[dep].version))
    return errors


def _system_errors(mods: Mapping[str, ModuleInfo]) -> list[ResolveError]:
    return [
        SystemDependencyError(n, d)
        for n, i in sorted(mods.items())
        if Capability.SYSTEM in i.capabilities
        for d in _edges(i, mods)
        if Capability.SYSTEM not in mods[d].capabilities
    ]


def _kahn(mods: Mapping[str, ModuleInfo]) -> list[str]:
    indegree = {n: 0 for n in mods}
    dependents: dict[str, list[str]] = {n: [] for n in mods}
    for name, info in mods.items():
        for dep in set(_edges(info, mods)):
            indegree[name] += 1
            dependents[dep].append(name)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for nxt in dependents[name]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(order) != len(mods):
        stuck = {n for n in mods if n not in set(order)}
        raise ResolutionError([CycleError(_find_cycle(stuck, mods))])
    return order


def _find_cycle(stuck: set[str], mods: Mapping[str, ModuleInfo]) -> list[str]:
    """DFS in name order over the modules Kahn could not place; returns the first cycle found."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(d for d in _edges(mods[node], mods) if d in stuck):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(stuck):
        if start not in state and (cycle := visit(start)):
            return cycle
    return sorted(stuck)  # unreachable for a real cycle; keeps the error informative
