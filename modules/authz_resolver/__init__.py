"""authz-resolver: AuthZEN-style decisions from PDP plugins and the PEP that compiles them (P-3).

``sdk`` is the public face; this package re-exports it.
"""

from .sdk import *  # noqa: F403
from .sdk import __all__ as __all__
