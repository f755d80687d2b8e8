"""GTS identifiers oagw defines (G-1.3, G-14.1, G-14.5) and the helpers that convert ids to and from the wire."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

from ._sdk_errors import ValidationError

UPSTREAM_TYPE_ID = "gts.x.core.oagw.upstream.v1~"
ROUTE_TYPE_ID = "gts.x.core.oagw.route.v1~"
PROTOCOL_TYPE_ID = "gts.x.core.oagw.protocol.v1~"
HTTP_PROTOCOL_ID = PROTOCOL_TYPE_ID + "x.core.oagw.http.v1"
GRPC_PROTOCOL_ID = PROTOCOL_TYPE_ID + "x.core.oagw.grpc.v1"
# Resource type of the PEP `invoke` check on the proxy (G-12.1 step 1).
PROXY_TYPE_ID = "gts.x.core.oagw.proxy.v1~"
# PEP action needed to set `allow_private_network` (G-17.4).
ALLOW_PRIVATE_NETWORK_ACTION = "allow_private_network"

AUTH_PLUGIN_SPEC_ID = "gts.x.core.oagw.auth_plugin.v1~"
GUARD_PLUGIN_SPEC_ID = "gts.x.core.oagw.guard_plugin.v1~"
TRANSFORM_PLUGIN_SPEC_ID = "gts.x.core.oagw.transform_plugin.v1~"
PLUGIN_SPEC_IDS = (AUTH_PLUGIN_SPEC_ID, GUARD_PLUGIN_SPEC_ID, TRANSFORM_PLUGIN_SPEC_ID)

NOOP_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.noop.v1"
APIKEY_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.apikey.v1"
BEARER_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.bearer.v1"
OAUTH2_CLIENT_CRED_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.oauth2_client_cred.v1"
OAUTH2_CLIENT_CRED_BASIC_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.oauth2_client_cred_basic.v1"
BASIC_AUTH_ID = AUTH_PLUGIN_SPEC_ID + "x.core.oagw.basic.v1"
REQUIRED_HEADERS_GUARD_ID = GUARD_PLUGIN_SPEC_ID + "x.core.oagw.required_headers.v1"
REQUEST_ID_TRANSFORM_ID = TRANSFORM_PLUGIN_SPEC_ID + "x.core.oagw.request_id.v1"

ERROR_TYPE_PREFIX = "gts.x.core.errors.err.v1~x.oagw."

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def upstream_gts_id(value: UUID) -> str:
    return UPSTREAM_TYPE_ID + str(value)


def route_gts_id(value: UUID) -> str:
    return ROUTE_TYPE_ID + str(value)


def new_upstream_id() -> str:
    return upstream_gts_id(uuid.uuid4())


def new_route_id() -> str:
    return route_gts_id(uuid.uuid4())


def _parse(value: str, prefix: str, what: str) -> UUID:
    if not isinstance(value, str) or not value.startswith(prefix) or not _UUID_RE.match(value[len(prefix) :]):
        raise ValidationError(f"{what} id must have the form '{prefix}<uuid>'")
    return UUID(value[len(prefix) :])


def parse_upstream_id(value: str) -> UUID:
    """The UUID inside ``gts.x.core.oagw.upstream.v1~<uuid>``; anything else → 400 (G-10.2)."""
    return _parse(value, UPSTREAM_TYPE_ID, "upstream")


def parse_route_id(value: str) -> UUID:
    return _parse(value, ROUTE_TYPE_ID, "route")


def canonical_upstream_id(value: str) -> str:
    """The GTS id with a lowercase uuid, so ids compare and sort consistently."""
    return upstream_gts_id(parse_upstream_id(value))


def canonical_route_id(value: str) -> str:
    return route_gts_id(parse_route_id(value))
