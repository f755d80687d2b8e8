"""The plugin-author story (C-18, C-20.3, K-10): the separately installed ``fabrikit-jsonl-audit`` distribution is
discovered through its entry point (``fabrikit plugins``), its instance is validated and listed by the types
registry through the real kernel plugin phase, and the audit handler delivers every event to it beside log-audit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import msgspec
import structlog
from fabrikit_jsonl_audit.plugin import DEFINITION as JSONL_AUDIT

from fabrikit.kernel.outbox import OutboxMessage, Success
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.mini_chat.domain.ports import AuditEnvelope
from fabrikit.modules.mini_chat.infra.handlers import AuditHandler
from fabrikit.modules.mini_chat.infra.outbox import AUDIT_QUEUE
from fabrikit.modules.mini_chat.sdk import TurnDeleteAuditEvent
from fabrikit.modules.mock_llm.config import MockLlmConfig
from fabrikit.modules.mock_llm.server import MockLlmServer
from tests.mini_chat_e2e.harness import MODULES, PLUGINS, server_config

ROOT = Path(__file__).resolve().parents[2]
FABRIKIT = Path(sys.executable).with_name("fabrikit")


def test_fabrikit_plugins_discovers_the_example_distribution() -> None:
    out = subprocess.run(
        [str(FABRIKIT), "plugins", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    jsonl = listed["jsonl-audit"]
    assert jsonl["distribution"] == "fabrikit-jsonl-audit"
    assert jsonl["host"] == "mini-chat"
    assert jsonl["instance_id"] == JSONL_AUDIT.instance_id
    assert listed["log-audit"]["spec"] == jsonl["spec"]


async def test_jsonl_plugin_receives_events_beside_log_audit(tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    async with MockLlmServer(MockLlmConfig(port=0)) as mock:
        port = int(mock.base_url.rsplit(":", 1)[1].split("/")[0])
        config = server_config(port)
        config["plugins"]["jsonl-audit"] = {"config": {"path": str(target)}}
        async with RuntimeHarness(modules=MODULES, plugins=[*PLUGINS, JSONL_AUDIT], config=config) as h:
            module = h.runtime.modules["mini-chat"]
            selector = module._audit_selector  # the kernel PluginSelector mini-chat registered in init
            instances = await selector.all(module.config.vendor)
            ids = {i.gts_id for i in instances}
            assert JSONL_AUDIT.instance_id in ids
            assert any(i.endswith("hyperspot.builtin.log_audit.plugin.v1") for i in ids)

            event = TurnDeleteAuditEvent(
                event_id=uuid4(),
                event_type="turn_delete",
                timestamp=datetime.now(UTC),
                tenant_id=uuid4(),
                requester_type="user",
                actor_user_id=uuid4(),
                chat_id=uuid4(),
                turn_id=uuid4(),
                request_id=uuid4(),
            )
            payload = msgspec.json.encode(AuditEnvelope(type="delete", event=event))
            message = OutboxMessage(AUDIT_QUEUE, 0, 1, 1, payload, "mini-chat.audit.v1", datetime.now(UTC), 0)
            handler = AuditHandler(selector, module.config.vendor, 5.0)
            with structlog.testing.capture_logs() as records:
                assert await handler(message) == Success()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == [str(event.event_id)]
    logged = [r for r in records if r.get("event") == "audit_event"]
    assert [r["audit"]["event_id"] for r in logged] == [str(event.event_id)]
