"""The ``fabrikit`` command line (K-19). ``main()`` returns the exit code: 0 ok, 1 failure, 2 usage."""

from ._main import main

__all__ = ["main"]
