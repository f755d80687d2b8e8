"""Route matching (G-4.4): segment-aware prefixes, longest path first, then highest priority."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..sdk import Route, RouteNotFoundError
from .paths import path_matches_prefix, strip_trailing_slash


def _rank(route: Route) -> tuple[int, int, str]:
    # Longest path, then highest priority; the id only makes ties deterministic.
    return (-len(strip_trailing_slash(route.http.path)), -route.priority, route.id)


def candidates(routes: Iterable[Route], method: str, path: str) -> list[Route]:
    """Enabled routes that list ``method`` and whose path is a segment prefix of ``path``, best first."""
    wanted = method.upper()
    found = [
        r
        for r in routes
        if r.enabled
        and r.match.http is not None
        and wanted in r.http.methods
        and path_matches_prefix(r.http.path, path)
    ]
    return sorted(found, key=_rank)


def match_route(routes: Iterable[Route], method: str, path: str) -> Route | None:
    best = candidates(routes, method, path)
    return best[0] if best else None


def select_route(route_groups: Sequence[Iterable[Route]], method: str, path: str) -> Route:
    """The routes of the resolved upstream are tried first, then each ancestor's group in order (G-4.4).

    No match, a method mismatch included → 404 ``route.not_found``.
    """
    for group in route_groups:
        route = match_route(group, method, path)
        if route is not None:
            return route
    raise RouteNotFoundError(f"no route matches {method.upper()} on this upstream")
