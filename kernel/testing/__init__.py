"""Test helpers for module and plugin authors (K-6.4)."""

from ._harness import RuntimeHarness, make_config

__all__ = ["RuntimeHarness", "make_config"]
