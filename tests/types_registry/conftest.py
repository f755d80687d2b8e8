from __future__ import annotations

import pytest

from fabrikit.modules.types_registry import TypesRegistry


@pytest.fixture
def registry() -> TypesRegistry:
    """A fresh registry in its staging phase (before ``post_init``)."""
    return TypesRegistry()


@pytest.fixture
def ready() -> TypesRegistry:
    """A fresh registry already switched to ready, with nothing in it."""
    reg = TypesRegistry()
    reg.activate()
    return reg
