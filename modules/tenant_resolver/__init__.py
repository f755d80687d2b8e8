"""tenant-resolver: a read-only single-root tenant tree with barriers, served by plugins (P-4).

``sdk`` is the public face; this package re-exports it.
"""

from .sdk import *  # noqa: F403
from .sdk import __all__ as __all__
