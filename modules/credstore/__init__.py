"""credstore: tenant-scoped secrets by ``cred://`` reference, served by plugins (P-5).

``sdk`` is the public face; this package re-exports it.
"""

from .sdk import *  # noqa: F403
from .sdk import __all__ as __all__
