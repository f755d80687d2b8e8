"""The client and plugin protocols and the plugin spec of authz-resolver (P-3.2, P-3.4)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from fabrikit.kernel.plugins import PluginSpec

from ._models import EvaluationRequest, EvaluationResponse

AUTHZ_PLUGIN_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.authz_resolver.plugin.v1~"

INVALID_REQUEST_ERROR = "gts.x.core.errors.err.v1~x.authz.errors.invalid_request.v1"
INSUFFICIENT_PERMISSIONS_ERROR = "gts.x.core.errors.err.v1~x.authz.errors.insufficient_permissions.v1"


@runtime_checkable
class AuthzResolverClient(Protocol):
    """The PDP. A deny is ``decision=False``; raised errors are infrastructure failures only."""

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse: ...


@runtime_checkable
class AuthzResolverPlugin(Protocol):
    """What an authz plugin implements; identical to the client."""

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse: ...


AUTHZ_PLUGIN_SPEC = PluginSpec(
    AUTHZ_PLUGIN_SPEC_ID, AuthzResolverPlugin, description="Authorization resolver plugin (PDP)"
)
