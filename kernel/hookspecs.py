"""The two registration hooks of the ``fabrikit`` entry-point group (K-3). Synchronous, registration only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ._module import Module
    from .plugins import PluginDef

PROJECT = "fabrikit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def fabrikit_modules() -> Sequence[type[Module]]:  # type: ignore[empty-body]
    """Implemented by distributions that ship modules; called once at discovery. Returns module classes."""


@hookspec
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    """Implemented by distributions that ship plugins; calls ``register`` once per plugin definition.

    ``config`` is the read-only ``plugins:`` section of the configuration.
    """
