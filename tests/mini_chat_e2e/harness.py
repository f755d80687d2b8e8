"""The real mini-chat server for end-to-end tests: api-gateway on ``127.0.0.1:0``, every module mini-chat needs,
the bundled plugins, and mock-llm on an ephemeral loopback port that oagw allowlists.

``async with chat_server(engine) as s:`` → ``s.http`` (httpx against the gateway), ``s.mock`` (the mock-llm
server: recorded requests, scripts).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.authz_resolver.module import AuthzResolver
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.mini_chat.module import MiniChat
from fabrikit.modules.mock_llm.config import MockLlmConfig
from fabrikit.modules.mock_llm.server import MockLlmServer
from fabrikit.modules.oagw.module import Oagw
from fabrikit.modules.tenant_resolver.module import TenantResolver
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.log_audit.plugin import DEFINITION as LOG_AUDIT
from fabrikit.plugins.oagw_auth.plugin import DEFINITIONS as OAGW_AUTH
from fabrikit.plugins.single_tenant.plugin import DEFINITION as SINGLE_TENANT
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN
from fabrikit.plugins.static_authz.plugin import DEFINITION as STATIC_AUTHZ
from fabrikit.plugins.static_credstore.plugin import DEFINITION as STATIC_CREDSTORE
from fabrikit.plugins.static_model_policy.plugin import DEFINITION as STATIC_MODEL_POLICY

AUTH = {"Authorization": "Bearer dev-token"}
BASE = "/mini-chat/v1"
MOCK_KEY = "mock-llm-dev-key"
OTHER_USER = {"Authorization": "Bearer other-user"}
OTHER_TENANT_USER = {"Authorization": "Bearer other-tenant"}
OTHER_SUBJECT = "22222222-0000-4000-8000-000000000002"
OTHER_TENANT = "33333333-0000-4000-8000-000000000003"
APIKEY_AUTH = {
    "auth_plugin_type": "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1",
    "auth_config": {"header": "Authorization", "prefix": "Bearer ", "secret_ref": "cred://mock-llm-key"},
}
# Calls to mock-llm carry the key through oagw's apikey plugin (credstore `mock-llm-key`), as in the default run.
PROVIDER_AUTH = True
SERVICE_SUBJECT = "6d696e69-6368-4000-8000-000000000001"
MODULES = [
    TypesRegistryModule,
    AuthnResolver,
    AuthzResolver,
    TenantResolver,
    CredStore,
    ApiGateway,
    Oagw,
    MiniChat,
]
PLUGINS = [
    STATIC_AUTHN,
    STATIC_AUTHZ,
    SINGLE_TENANT,
    STATIC_CREDSTORE,
    STATIC_MODEL_POLICY,
    LOG_AUDIT,
    *OAGW_AUTH,
]


def server_config(
    mock_port: int,
    *,
    database: Mapping[str, Any] | None = None,
    mini_chat: Mapping[str, Any] | None = None,
    gateway: Mapping[str, Any] | None = None,
    authn: Mapping[str, Any] | None = None,
    provider_auth: bool = PROVIDER_AUTH,
) -> dict[str, Any]:
    mc: dict[str, Any] = {
        "providers": {
            "mock": {
                "kind": "openai_responses",
                "host": "127.0.0.1",
                "port": mock_port,
                "use_http": True,
                "upstream_alias": "mock-llm",
                **(APIKEY_AUTH if provider_auth else {}),
            }
        },
        # Short silences so ping / keep-alive are observable in a test.
        "streaming": {"sse_ping_interval_seconds": 5, "sse_keepalive_seconds": 10},
    }
    mc.update(mini_chat or {})
    config: dict[str, Any] = {
        "modules": {
            "types-registry": None,
            "authn-resolver": None,
            "authz-resolver": None,
            "tenant-resolver": None,
            "credstore": None,
            "api-gateway": {"config": {"bind_addr": "127.0.0.1:0", **(gateway or {})}},
            "oagw": {
                "config": {
                    "allow_http_upstream": True,
                    "private_network_allowlist": [f"127.0.0.1:{mock_port}"],
                }
            },
            "mini-chat": {"config": mc},
        },
        "plugins": {
            "static-authn": {
                "config": {
                    "mode": "static_tokens",
                    "tokens": [
                        {"token": "dev-token"},
                        {"token": "other-user", "identity": {"subject_id": OTHER_SUBJECT}},
                        {"token": "other-tenant", "identity": {"subject_tenant_id": OTHER_TENANT}},
                    ],
                    "s2s_credentials": [
                        {
                            "client_id": "mini-chat",
                            "client_secret": "dev",
                            "identity": {"subject_id": SERVICE_SUBJECT},
                        }
                    ],
                    **(authn or {}),
                }
            },
            "static-credstore": {"config": {"secrets": [{"key": "mock-llm-key", "value": MOCK_KEY}]}},
        },
        "logging": {"level": "warning"},
    }
    if database is not None:
        config["database"] = dict(database)
    return config


@dataclass
class ChatServer:
    harness: RuntimeHarness
    mock: MockLlmServer

    @property
    def http(self) -> httpx.AsyncClient:
        return self.harness.http  # type: ignore[no-any-return]

    @property
    def module(self) -> MiniChat:
        return self.harness.runtime.modules["mini-chat"]  # type: ignore[no-any-return]

    def provider_calls(self) -> list[dict[str, Any]]:
        return self.mock.requests(path_prefix="/v1/responses")

    async def create_chat(self, **body: Any) -> dict[str, Any]:
        resp = await self.http.post(f"{BASE}/chats", json=body, headers=AUTH)
        assert resp.status_code == 201, resp.text
        return resp.json()  # type: ignore[no-any-return]

    async def send(self, chat_id: str, content: str, **body: Any) -> Stream:
        return await collect(
            self.http, "POST", f"{BASE}/chats/{chat_id}/messages:stream", {"content": content, **body}
        )


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[ServerSentEvent]
    problem: dict[str, Any] | None = None

    @property
    def code(self) -> str | None:
        """The problem's ``code`` when the request was refused before the stream opened."""
        return None if self.problem is None else str(self.problem["code"])

    @property
    def names(self) -> list[str]:
        return [e.event for e in self.events]

    def data(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(e.data) for e in self.events if e.event == name]

    def one(self, name: str) -> dict[str, Any]:
        (item,) = self.data(name)
        return item

    @property
    def text(self) -> str:
        return "".join(d["content"] for d in self.data("delta") if d["type"] == "text")


async def collect(
    http: httpx.AsyncClient, method: str, path: str, body: Mapping[str, Any] | None = None
) -> Stream:
    """Reads a whole SSE answer with a real SSE parser, or the problem answer before the stream."""
    kwargs: dict[str, Any] = {"headers": AUTH}
    if body is not None:
        kwargs["json"] = dict(body)
    async with aconnect_sse(http, method, path, **kwargs) as source:
        resp = source.response
        if resp.status_code != 200:
            await resp.aread()
            return Stream(resp.status_code, resp.headers, [], resp.json())
        events = [event async for event in source.aiter_sse()]
        return Stream(resp.status_code, resp.headers, events)


@contextlib.asynccontextmanager
async def chat_server(
    database: Mapping[str, Any] | None = None,
    *,
    mock: Mapping[str, Any] | None = None,
    home: Any = None,
    **overrides: Any,
) -> AsyncIterator[ChatServer]:
    async with MockLlmServer(MockLlmConfig(port=0, **dict(mock or {}))) as server:
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
        harness = RuntimeHarness(
            modules=MODULES,
            plugins=PLUGINS,
            config=server_config(port, database=database, **overrides),
            home=home,
        )
        async with harness:
            yield ChatServer(harness, server)


def _norm(value: Any) -> str:
    return str(value).replace("-", "").lower()


async def turn_rows(s: ChatServer, chat_id: str) -> list[dict[str, Any]]:
    """The chat's turn rows straight from the database (the API hides replaced/deleted ones)."""
    assert s.module.engine is not None
    db = s.module.engine.store.db  # type: ignore[attr-defined]
    rows = await db.fetch("SELECT * FROM chat_turns")
    return [r for r in rows if _norm(r["chat_id"]) == _norm(chat_id)]


async def quota_rows(s: ChatServer) -> list[dict[str, Any]]:
    assert s.module.engine is not None
    db = s.module.engine.store.db  # type: ignore[attr-defined]
    return list(await db.fetch("SELECT * FROM quota_usage"))


async def credits_used(s: ChatServer, bucket: str = "total", period: str = "daily") -> tuple[int, int]:
    """(spent, reserved) summed over the matching rows."""
    rows = [r for r in await quota_rows(s) if r["bucket"] == bucket and r["period_type"] == period]
    return sum(int(r["spent_credits_micro"]) for r in rows), sum(
        int(r["reserved_credits_micro"]) for r in rows
    )


def provider_record(s: ChatServer, marker: str) -> dict[str, Any]:
    """The one provider call whose request body mentions ``marker``."""
    found = [r for r in s.provider_calls() if marker in json.dumps(r.get("json"))]
    assert len(found) == 1, f"{len(found)} provider calls mention {marker!r}"
    return found[0]


async def turn_status(s: ChatServer, chat_id: str, request_id: str) -> httpx.Response:
    return await s.http.get(f"{BASE}/chats/{chat_id}/turns/{request_id}", headers=AUTH)


async def wait_state(
    s: ChatServer, chat_id: str, request_id: str, *, timeout: float = 10.0
) -> dict[str, Any]:
    """Polls the turn status until it leaves ``running``."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        resp = await turn_status(s, chat_id, request_id)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["state"] != "running" or loop.time() > deadline:
            return body
        await asyncio.sleep(0.02)


PROVIDER_ID_PATTERNS = ("resp_", "chatcmpl-", "cmpl-", "msg_", "file-", "vs_", "fs_", "ws_", "ci_")


def assert_no_provider_ids(stream: Stream) -> None:
    for event in stream.events:
        for pattern in PROVIDER_ID_PATTERNS:
            assert pattern not in event.data, (pattern, event.data)
