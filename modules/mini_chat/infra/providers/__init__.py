"""mini-chat's provider adapters: the only code that talks to LLM providers, always through oagw (CI-13).

``OagwProviders`` implements the domain's ``ProviderPort``; ``ProviderResolver`` picks the upstream for a provider
and tenant; ``provision_providers`` creates the upstreams and routes at start (CI-1.3).
"""

from .base import raised_before_forwarding
from .gateway import WIRES, OagwProviders
from .provisioning import (
    ProvisionedUpstream,
    provision_providers,
    route_specs,
    service_context,
    upstream_spec,
)
from .resolver import (
    ProviderConfigError,
    ProviderNotConfigured,
    ProviderResolver,
    UpstreamTarget,
    derived_alias,
)

__all__ = [
    "WIRES",
    "OagwProviders",
    "ProviderConfigError",
    "ProviderNotConfigured",
    "ProviderResolver",
    "ProvisionedUpstream",
    "UpstreamTarget",
    "derived_alias",
    "provision_providers",
    "raised_before_forwarding",
    "route_specs",
    "service_context",
    "upstream_spec",
]
