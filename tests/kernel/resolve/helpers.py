"""Small builders shared by the resolver tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from fabrikit.kernel._module import Capability, ModuleInfo
from fabrikit.kernel._resolve import ResolutionError, ResolveError, resolve


def mod(
    name: str,
    *deps: str,
    optional: Sequence[str] = (),
    caps: Iterable[Capability] = (),
    dist: str = "<extra>",
    version: str = "0.1.0",
) -> ModuleInfo:
    return ModuleInfo(
        name=name,
        deps=deps,
        optional_deps=tuple(optional),
        capabilities=frozenset(caps),
        distribution=dist,
        version=version,
    )


def resolve_errors(available: Iterable[ModuleInfo], configured: Sequence[str]) -> list[ResolveError]:
    """The errors of the first failing check step."""
    with pytest.raises(ResolutionError) as info:
        resolve(available, configured)
    return info.value.errors


def messages(available: Iterable[ModuleInfo], configured: Sequence[str]) -> list[str]:
    return [str(e) for e in resolve_errors(available, configured)]
