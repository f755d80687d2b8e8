"""Shared pieces of the C-22 checklist tests: a configurable real server, recording test plugins, SSE helpers,
database probes and the spec's arithmetic (written from CI-7/CI-8, independent of the module's code).

The server is the e2e harness's (api-gateway on a free port, oagw, mock-llm over real sockets, apikey provider
auth) with three knobs the harness lacks: extra module config (oagw), plugin config (the model policy) and plugin
substitution (a test PDP instead of static-authz, a recording model policy instead of static-model-policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
from httpx_sse import aconnect_sse

from fabrikit.kernel import PluginContext, PluginDef
from fabrikit.kernel.security import OWNER_TENANT_ID
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.authz_resolver.sdk import (
    AUTHZ_PLUGIN_SPEC_ID,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationResponseContext,
    InPredicate,
    PdpConstraint,
)
from fabrikit.modules.mini_chat.sdk import MODEL_POLICY_SPEC_ID, PublishTransientError, UsageEvent
from fabrikit.modules.mock_llm.config import MockLlmConfig
from fabrikit.modules.mock_llm.server import MockLlmServer
from fabrikit.plugins.static_model_policy.plugin import StaticModelPolicy, StaticModelPolicyConfig
from tests.mini_chat_e2e.harness import (
    AUTH,
    BASE,
    MODULES,
    OTHER_SUBJECT,
    OTHER_TENANT,
    PLUGINS,
    ChatServer,
    Stream,
    server_config,
)

# -- callers ----------------------------------------------------------------------------------------------------

# One subject per quota-sensitive test: quota rows are per user, so tests sharing a server never share a budget.
USER_SUBJECTS = {f"u{i}": f"44444444-0000-4000-8000-{i:012d}" for i in range(1, 13)}
TOKENS = [
    {"token": "dev-token"},
    {"token": "other-user", "identity": {"subject_id": OTHER_SUBJECT}},
    {"token": "other-tenant", "identity": {"subject_tenant_id": OTHER_TENANT}},
    *({"token": name, "identity": {"subject_id": sid}} for name, sid in USER_SUBJECTS.items()),
]


def user(name: str) -> dict[str, str]:
    """The Authorization header of test user ``name`` (``u1`` … ``u12``)."""
    assert name in USER_SUBJECTS, name
    return {"Authorization": f"Bearer {name}"}


# -- a test PDP ---------------------------------------------------------------------------------------------------


@dataclass
class PdpCall:
    action: str
    resource_type: str
    resource_id: UUID | None


@dataclass
class RecordingPdp:
    """The authz-resolver plugin for T17/T20: records every evaluation and answers as ``mode`` says.

    ``allow`` = static-authz's answer (the subject's tenant); ``deny`` = decision false; ``raise`` = the PDP is
    down; ``constrain`` = allow with ``constraints`` (a list of ``PdpConstraint``) instead of the tenant."""

    mode: str = "allow"
    constraints: Sequence[PdpConstraint] = ()
    calls: list[PdpCall] = field(default_factory=list)

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        self.calls.append(PdpCall(str(request.action.name), request.resource.type, request.resource.id))
        if self.mode == "raise":
            raise ConnectionError("the PDP is down")
        if self.mode == "deny":
            return EvaluationResponse(decision=False)
        if self.mode == "constrain":
            return EvaluationResponse(
                decision=True, context=EvaluationResponseContext(constraints=tuple(self.constraints))
            )
        tenant = str(request.subject.properties["tenant_id"])
        allow = PdpConstraint(predicates=(InPredicate(property=OWNER_TENANT_ID, values=(tenant,)),))
        return EvaluationResponse(decision=True, context=EvaluationResponseContext(constraints=(allow,)))

    def actions(self) -> list[str]:
        return [c.action for c in self.calls]


def pdp_plugin(pdp: RecordingPdp) -> PluginDef:
    return PluginDef(
        name="test-pdp",
        host="authz-resolver",
        spec_id=AUTHZ_PLUGIN_SPEC_ID,
        instance_id=AUTHZ_PLUGIN_SPEC_ID + "hyperspot.test.checklist_pdp.plugin.v1",
        factory=lambda _pctx: pdp,
        description="Checklist PDP: records evaluations, allows, denies or fails on demand",
    )


# -- a recording model policy -------------------------------------------------------------------------------------


@dataclass
class UsageLog:
    """Every ``publish_usage`` delivery, in order. ``fail_first`` makes the first delivery of each dedupe key fail
    transiently (after recording it), so the outbox redelivers it (T15-09)."""

    deliveries: list[UsageEvent] = field(default_factory=list)
    fail_first: bool = False
    _failed: set[str] = field(default_factory=set)

    def for_request(self, request_id: str | UUID) -> list[UsageEvent]:
        rid = UUID(str(request_id))
        return [e for e in self.deliveries if e.request_id == rid]

    async def wait_for(
        self, request_id: str | UUID, count: int = 1, timeout: float = 15.0
    ) -> list[UsageEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.for_request(request_id)) < count:
            assert loop.time() < deadline, f"fewer than {count} usage deliveries for {request_id}"
            await asyncio.sleep(0.05)
        return self.for_request(request_id)


class RecordingModelPolicy(StaticModelPolicy):
    """static-model-policy with the same config and answers; ``publish_usage`` also records the event."""

    def __init__(self, config: StaticModelPolicyConfig, log: UsageLog) -> None:
        super().__init__(config)
        self._usage_log = log

    async def publish_usage(self, event: UsageEvent) -> None:
        log = self._usage_log
        log.deliveries.append(event)
        if log.fail_first and event.dedupe_key not in log._failed:
            log._failed.add(event.dedupe_key)
            raise PublishTransientError("the usage sink is briefly unavailable")
        await super().publish_usage(event)


POLICY_PLUGIN = "recording-model-policy"


def policy_plugin(log: UsageLog) -> PluginDef:
    def factory(pctx: PluginContext) -> RecordingModelPolicy:
        return RecordingModelPolicy(pctx.config, log)

    return PluginDef(
        name=POLICY_PLUGIN,
        host="mini-chat",
        spec_id=MODEL_POLICY_SPEC_ID,
        instance_id=MODEL_POLICY_SPEC_ID + "hyperspot.test.recording_model_policy.plugin.v1",
        factory=factory,
        config_type=StaticModelPolicyConfig,
        description="static-model-policy that records published usage events",
    )


# -- the server ---------------------------------------------------------------------------------------------------


@dataclass
class Server(ChatServer):
    usage: UsageLog = field(default_factory=UsageLog)

    @property
    def db(self) -> Any:
        assert self.module.engine is not None
        return self.module.engine.store.db  # type: ignore[attr-defined]

    async def chat(self, model: str = "gpt-4.1-mini", headers: Mapping[str, str] = AUTH) -> str:
        resp = await self.http.post(f"{BASE}/chats", json={"model": model}, headers=dict(headers))
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])

    async def stream(
        self, chat_id: str, content: str, *, headers: Mapping[str, str] = AUTH, **body: Any
    ) -> Stream:
        return await sse(self.http, "POST", stream_path(chat_id), {"content": content, **body}, headers)


@contextlib.asynccontextmanager
async def checklist_server(
    database: Mapping[str, Any] | None = None,
    *,
    mini_chat: Mapping[str, Any] | None = None,
    oagw: Mapping[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
    pdp: RecordingPdp | None = None,
    mock: Mapping[str, Any] | None = None,
    home: Any = None,
) -> AsyncIterator[Server]:
    """A real mini-chat server; ``policy`` is the model-policy plugin config (catalog, kill switches, limits)."""
    usage = UsageLog()
    async with MockLlmServer(MockLlmConfig(port=0, **dict(mock or {}))) as llm:
        port = int(llm.base_url.rsplit(":", 1)[1].split("/")[0])
        config = server_config(port, database=database, mini_chat=mini_chat, authn={"tokens": TOKENS})
        config["modules"]["oagw"]["config"].update(oagw or {})
        config["plugins"][POLICY_PLUGIN] = {"config": dict(policy or {})}
        replaced = {"static-model-policy"} | ({"static-authz"} if pdp is not None else set())
        plugins = [p for p in PLUGINS if p.name not in replaced]
        plugins.append(policy_plugin(usage))
        if pdp is not None:
            plugins.append(pdp_plugin(pdp))
        harness = RuntimeHarness(modules=MODULES, plugins=plugins, config=config, home=home)
        async with harness:
            yield Server(harness, llm, usage)


# -- SSE ----------------------------------------------------------------------------------------------------------


def stream_path(chat_id: str) -> str:
    return f"{BASE}/chats/{chat_id}/messages:stream"


async def sse(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] = AUTH,
) -> Stream:
    """The whole SSE answer through a real SSE parser, or the problem answer given before the stream."""
    kwargs: dict[str, Any] = {"headers": dict(headers)}
    if body is not None:
        kwargs["json"] = dict(body)
    async with aconnect_sse(http, method, path, **kwargs) as source:
        resp = source.response
        if resp.status_code != 200:
            await resp.aread()
            return Stream(resp.status_code, resp.headers, [], resp.json())
        return Stream(resp.status_code, resp.headers, [event async for event in source.aiter_sse()])


async def read_events(
    lines: AsyncIterator[str], until: str, count: int = 1
) -> list[tuple[str, dict[str, Any]]]:
    """Raw SSE lines → (event, data) pairs, read until ``count`` events named ``until`` arrived."""
    seen: list[tuple[str, dict[str, Any]]] = []
    name = ""
    async for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            seen.append((name, json.loads(line[6:])))
            if sum(1 for n, _ in seen if n == until) >= count:
                return seen
    raise AssertionError(f"the stream ended before {count} {until!r} events: {[n for n, _ in seen]}")


# -- database probes ----------------------------------------------------------------------------------------------


def hexid(value: Any) -> str:
    return str(value).replace("-", "").lower()


async def turn_row(s: Server, request_id: str) -> dict[str, Any]:
    """The ``chat_turns`` row of ``request_id`` (deleted and replaced rows included)."""
    rows = [
        r for r in await s.db.fetch("SELECT * FROM chat_turns") if hexid(r["request_id"]) == hexid(request_id)
    ]
    assert len(rows) == 1, f"{len(rows)} turn rows for {request_id}"
    return dict(rows[0])


async def chat_turn_rows(s: Server, chat_id: str) -> list[dict[str, Any]]:
    return [
        dict(r) for r in await s.db.fetch("SELECT * FROM chat_turns") if hexid(r["chat_id"]) == hexid(chat_id)
    ]


async def quota(s: Server, subject: str, bucket: str = "total", period: str = "daily") -> tuple[int, int]:
    """(spent, reserved) of one user's bucket × period rows (all period starts summed)."""
    rows = [
        r
        for r in await s.db.fetch("SELECT * FROM quota_usage")
        if hexid(r["user_id"]) == hexid(subject) and r["bucket"] == bucket and r["period_type"] == period
    ]
    return sum(int(r["spent_credits_micro"]) for r in rows), sum(
        int(r["reserved_credits_micro"]) for r in rows
    )


async def quota_by_day(
    s: Server, subject: str, bucket: str = "total", period: str = "daily"
) -> dict[str, Any]:
    """period_start (ISO text) → row, for one user's bucket × period."""
    out: dict[str, Any] = {}
    for r in await s.db.fetch("SELECT * FROM quota_usage"):
        if hexid(r["user_id"]) == hexid(subject) and r["bucket"] == bucket and r["period_type"] == period:
            start = r["period_start"]
            out[start.isoformat() if isinstance(start, date) else str(start)] = dict(r)
    return out


async def outbox_enqueued(s: Server) -> int:
    """Events ever enqueued to the module's outbox: sequenced (per-partition counters) plus still incoming. The
    sequencer moves rows and bumps the counter in one transaction, so one statement reads a consistent total."""
    row = await s.db.fetch_one(
        "SELECT (SELECT COALESCE(SUM(sequence), 0) FROM modkit_outbox_partitions) + "
        "(SELECT COUNT(*) FROM modkit_outbox_incoming) AS n"
    )
    return int(row["n"])


async def wait_state(
    s: Server, chat_id: str, request_id: str, headers: Mapping[str, str] = AUTH, timeout: float = 15.0
) -> dict[str, Any]:
    """Polls the turn status until it leaves ``running``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        resp = await s.http.get(f"{BASE}/chats/{chat_id}/turns/{request_id}", headers=dict(headers))
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["state"] != "running":
            return body
        assert loop.time() < deadline, f"turn {request_id} still running"
        await asyncio.sleep(0.05)


async def messages(s: Server, chat_id: str, headers: Mapping[str, str] = AUTH) -> list[dict[str, Any]]:
    resp = await s.http.get(f"{BASE}/chats/{chat_id}/messages", headers=dict(headers))
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


# -- the spec's arithmetic (CI-7.1, CI-8.1), written independently of the module --------------------------------

MINI = (1_000_000, 3_000_000)  # gpt-4.1-mini µc per 10⁶ tokens (in, out)
PREMIUM = (3_000_000, 15_000_000)  # gpt-4.1
MAX_OUT = 32_768  # both default models; = streaming.max_output_tokens default


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def credits(tokens_in: int, tokens_out: int, multipliers: tuple[int, int]) -> int:
    return ceil_div(tokens_in * multipliers[0], 1_000_000) + ceil_div(tokens_out * multipliers[1], 1_000_000)


def estimate(content: str, *, web: bool = False) -> int:
    """CI-8.1 with the default budgets (4 bytes/token, overhead 100, margin 10 %, web surcharge 500)."""
    size = len(content.encode())
    base = 100 if size == 0 else ceil_div(size, 4) + 100
    return ceil_div(base * 110, 100) + (500 if web else 0)


def pad_to(content: str, size: int, filler: str = "a") -> str:
    """``content`` followed by ``filler`` up to exactly ``size`` UTF-8 bytes."""
    missing = size - len(content.encode())
    assert missing >= 0, (content, size)
    assert missing % len(filler.encode()) == 0, (content, size, filler)
    return content + filler * (missing // len(filler.encode()))


def utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)
