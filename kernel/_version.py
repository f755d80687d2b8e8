from __future__ import annotations


def fabrikit_version() -> str:
    from fabrikit import __version__

    return __version__
