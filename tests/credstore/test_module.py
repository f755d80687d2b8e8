"""credstore through the real runtime: selection, ref validation first, and a canary that never leaks (P-5.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel import PluginDef, StartupError
from fabrikit.kernel.security import SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.credstore import module as credstore_module
from fabrikit.modules.credstore.module import CredStore
from fabrikit.modules.credstore.sdk import (
    CREDSTORE_PLUGIN_SPEC_ID,
    CredStoreClient,
    CredStoreInternal,
    InvalidSecretRef,
    NoPluginAvailable,
    SecretMetadata,
    SecretRef,
)
from fabrikit.plugins.static_credstore.plugin import DEFINITION
from tests.authz.headless import platform_harness

CANARY = "canary-7f3c1e9b-value"
ENV_CANARY = "env-canary-41d2"
TENANT = UUID("3f0b8a52-6f38-4b8e-9a57-4b1f8d0c2a11")
CTX = SecurityContext(subject_id=UUID(int=7), subject_tenant_id=TENANT)
SECRETS = {
    "secrets": [
        {"key": "openai-key", "value": CANARY, "tenant_id": str(TENANT)},
        {"key": "from-env", "value_env": "FABRIKIT_TEST_CRED_SET"},
        {"key": "missing-env", "value_env": "FABRIKIT_TEST_CRED_UNSET"},
    ]
}


class RecordingPlugin:
    """A third-party plugin stand-in: records what reaches it and can fail with the canary in its message."""

    def __init__(self) -> None:
        self.refs: list[SecretRef] = []
        self.fail = False

    async def get(self, ctx: SecurityContext, ref: SecretRef) -> SecretMetadata | None:
        self.refs.append(ref)
        if self.fail:
            raise RuntimeError(f"backend said {CANARY}")
        return None


RECORDER = RecordingPlugin()
RECORDING = PluginDef(
    name="recording-credstore",
    host="credstore",
    spec_id=CREDSTORE_PLUGIN_SPEC_ID,
    instance_id=CREDSTORE_PLUGIN_SPEC_ID + "acme.test.recording.credstore.v1",
    factory=lambda pctx: RECORDER,
    vendor="acme",
)


def harness(config: dict[str, Any] | None = None, **kw: Any) -> RuntimeHarness:
    cfg = {"plugins": {"static-credstore": {"config": SECRETS}}, **(config or {})}
    return platform_harness(CredStore, [DEFINITION, RECORDING], cfg, **kw)


def client_of(h: RuntimeHarness) -> CredStoreClient:
    return h.hub.get(CredStoreClient)  # type: ignore[type-abstract]


def test_manifest() -> None:
    m = CredStore.manifest
    assert (m.name, m.deps, {c.value for c in m.capabilities}) == (
        "credstore",
        ("types-registry",),
        {"system"},
    )
    assert credstore_module.fabrikit_modules() == [CredStore]


async def test_static_plugin_serves_secrets_and_never_logs_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABRIKIT_TEST_CRED_SET", ENV_CANARY)
    monkeypatch.delenv("FABRIKIT_TEST_CRED_UNSET", raising=False)
    with capture_logs() as logs:
        async with harness() as h:
            client = client_of(h)
            got = await client.get(CTX, "cred://openai-key")
            assert got is not None
            assert got.value.reveal_str() == CANARY
            assert (got.owner_tenant_id, got.sharing, got.is_inherited) == (TENANT, "tenant", False)
            assert CANARY not in repr(got)
            env = await client.get(CTX, SecretRef("from-env"))
            assert env is not None
            assert env.value.reveal_str() == ENV_CANARY
            assert await client.get(CTX, "missing-env") is None
            assert (
                await client.get(
                    SecurityContext(subject_id=UUID(int=8), subject_tenant_id=UUID(int=9)), "openai-key"
                )
                is None
            )
            for bad in ("cred://" + CANARY + "!", CANARY + " with spaces"):
                with pytest.raises(InvalidSecretRef) as info:
                    await client.get(CTX, bad)
                assert CANARY not in str(info.value)
    text = repr(logs)
    assert CANARY not in text
    assert ENV_CANARY not in text
    unset = [e for e in logs if e["event"] == "credstore_secret_env_unset"]
    assert len(unset) == 1
    assert (unset[0]["key"], unset[0]["variable"]) == ("missing-env", "FABRIKIT_TEST_CRED_UNSET")
    assert unset[0]["log_level"] == "warning"


async def test_wrong_vendor_is_no_plugin_available_but_a_bad_ref_fails_first() -> None:
    async with harness({"modules": {"credstore": {"config": {"vendor": "nobody"}}}}) as h:
        client = client_of(h)
        with pytest.raises(InvalidSecretRef):
            await client.get(CTX, "not a ref")
        with pytest.raises(NoPluginAvailable):
            await client.get(CTX, "fine")


async def test_invalid_refs_never_reach_the_plugin_and_failures_hide_the_plugin_message() -> None:
    RECORDER.refs.clear()
    async with harness({"modules": {"credstore": {"config": {"vendor": "acme"}}}}) as h:
        client = client_of(h)
        with pytest.raises(InvalidSecretRef):
            await client.get(CTX, "cred://")
        assert RECORDER.refs == []
        assert await client.get(CTX, "cred://ok") is None  # the acme plugin was selected, not the static one
        assert RECORDER.refs == [SecretRef("ok")]
        RECORDER.fail = True
        try:
            with capture_logs() as logs, pytest.raises(CredStoreInternal) as info:
                await client.get(CTX, "ok")
        finally:
            RECORDER.fail = False
    exc = info.value
    assert CANARY not in str(exc)
    assert CANARY not in exc.internal_detail
    assert exc.__cause__ is None
    assert exc.__suppress_context__
    assert CANARY not in str(exc.to_problem().to_dict())
    assert CANARY not in repr(logs)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["credstore_plugin_failed"]


async def test_a_rejected_config_aborts_startup_without_the_value(tmp_path: Path) -> None:
    bad = {"secrets": [{"key": "k", "value": CANARY, "value_env": "ALSO"}]}
    with capture_logs() as logs, pytest.raises(StartupError) as info:
        async with harness({"plugins": {"static-credstore": {"config": bad}}}, home=tmp_path):
            pass
    assert "exactly one of 'value' or 'value_env'" in str(info.value)
    assert CANARY not in str(info.value)
    assert CANARY not in repr(logs)
