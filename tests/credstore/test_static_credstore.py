"""P-5.2 static-credstore: startup rejections, value_env, precedence (P-5.3)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
import structlog
from structlog.testing import capture_logs

from fabrikit.kernel import ConfigError, convert_config
from fabrikit.kernel.plugins import PluginDef
from fabrikit.kernel.security import NIL_UUID, SecurityContext
from fabrikit.modules.credstore.sdk import CREDSTORE_PLUGIN_SPEC_ID, CredStorePlugin, SecretRef
from fabrikit.plugins.static_credstore import plugin as static_credstore
from fabrikit.plugins.static_credstore.plugin import DEFINITION, StaticCredStoreConfig, StaticCredStorePlugin

CANARY = "canary-7f3c1e9b-value"
T1, T2 = UUID(int=0x1001), UUID(int=0x1002)
ALICE, BOB = UUID(int=0xA11CE), UUID(int=0xB0B)
KEY = "openai-key"


def config(secrets: list[dict[str, Any]]) -> StaticCredStoreConfig:
    return convert_config({"secrets": secrets}, StaticCredStoreConfig, "plugins.static-credstore.config")


def plugin(secrets: list[dict[str, Any]], environ: dict[str, str] | None = None) -> StaticCredStorePlugin:
    return StaticCredStorePlugin(config(secrets), environ or {}, structlog.get_logger("test"))


async def value_for(p: StaticCredStorePlugin, tenant: UUID, subject: UUID, key: str = KEY) -> str | None:
    meta = await p.get(SecurityContext(subject_id=subject, subject_tenant_id=tenant), SecretRef.parse(key))
    return None if meta is None else meta.value.reveal_str()


# --- P-5.2.1 startup rejections -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key": KEY, "value": CANARY, "value_env": "X"}, "exactly one of 'value' or 'value_env'"),
        ({"key": KEY}, "exactly one of 'value' or 'value_env'"),
        ({"key": KEY, "value": CANARY, "tenant_id": str(NIL_UUID)}, "tenant_id must not be the nil UUID"),
        ({"key": KEY, "value": CANARY, "tenant_id": str(T1), "owner_id": str(NIL_UUID)}, "owner_id must not be the nil"),
        ({"key": KEY, "value": CANARY, "owner_id": str(ALICE)}, "owner_id requires tenant_id"),
        ({"key": KEY, "value": CANARY, "tenant_id": str(T1), "owner_id": str(ALICE), "sharing": "tenant"},
         "owner_id is only allowed with sharing 'private'"),
        ({"key": KEY, "value": CANARY, "tenant_id": str(T1), "owner_id": str(ALICE), "sharing": "shared"},
         "owner_id is only allowed with sharing 'private'"),
        ({"key": KEY, "value": CANARY, "tenant_id": str(T1), "sharing": "private"}, "'private' requires owner_id"),
        ({"key": KEY, "value": CANARY, "sharing": "tenant"}, "'tenant' requires tenant_id"),
        ({"key": "bad key!", "value": CANARY}, "key must be"),
        ({"key": KEY, "value": CANARY, "sharing": "public"}, "sharing"),
        ({"key": KEY, "value": 12345}, "quote numeric secrets"),
    ],
    ids=["both-sources", "no-source", "nil-tenant", "nil-owner", "owner-without-tenant", "owner-with-tenant-sharing",
         "owner-with-shared-sharing", "private-without-owner", "tenant-sharing-without-tenant", "bad-key",
         "unknown-sharing", "numeric-value"],
)  # fmt: skip
def test_startup_rejects(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config([{"key": "fine", "value": "x"}, entry])
    text = str(info.value)
    assert message in text
    assert "plugins.static-credstore.config.secrets[1]" in text
    assert CANARY not in text


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"tenant_id": str(T1)},
        {"tenant_id": str(T1), "sharing": "shared"},
        {"tenant_id": str(T1), "owner_id": str(ALICE)},
    ],
    ids=["global", "tenant", "shared", "private"],
)
def test_startup_rejects_a_duplicate_key_in_one_scope(scope: dict[str, Any]) -> None:
    first = {"key": KEY, "value": CANARY, **scope}
    again = {"key": "cred://" + KEY, "value_env": "OTHER", **scope}  # cred://x ≡ x
    with pytest.raises(ConfigError) as info:
        config([first, again])
    assert "duplicate key 'openai-key'" in str(info.value)
    assert CANARY not in str(info.value)


def test_the_same_key_in_different_scopes_is_fine() -> None:
    cfg = config(
        [
            {"key": KEY, "value": "g"},
            {"key": KEY, "value": "t", "tenant_id": str(T1)},
            {"key": KEY, "value": "s", "tenant_id": str(T1), "sharing": "shared"},
            {"key": KEY, "value": "p", "tenant_id": str(T1), "owner_id": str(ALICE)},
            {"key": KEY, "value": "p2", "tenant_id": str(T1), "owner_id": str(BOB)},
            {"key": KEY, "value": "t2", "tenant_id": str(T2)},
        ]
    )
    assert len(cfg.secrets) == 6


def test_config_repr_redacts_values() -> None:
    cfg = config([{"key": KEY, "value": CANARY}])
    assert CANARY not in repr(cfg)
    assert CANARY not in str(cfg)
    assert cfg.secrets[0].value is not None
    assert cfg.secrets[0].value.reveal() == CANARY


# --- P-5.2.2 value_env ----------------------------------------------------------------------------------------
async def test_value_env_is_read_once_at_startup() -> None:
    environ = {"OPENAI_KEY": CANARY}
    p = plugin([{"key": KEY, "value_env": "OPENAI_KEY"}], environ)
    environ["OPENAI_KEY"] = "changed later"
    assert await value_for(p, T1, ALICE) == CANARY


async def test_unset_value_env_leaves_the_entry_absent_with_one_warning() -> None:
    with capture_logs() as logs:
        p = plugin([{"key": KEY, "value_env": "OPENAI_KEY"}, {"key": "other", "value": "x"}])
        assert await value_for(p, T1, ALICE) is None
        assert await value_for(p, T1, ALICE, "other") == "x"
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["event"] == "credstore_secret_env_unset"
    assert (warnings[0]["key"], warnings[0]["variable"]) == (KEY, "OPENAI_KEY")


async def test_an_empty_variable_is_set() -> None:
    p = plugin([{"key": KEY, "value_env": "EMPTY"}], {"EMPTY": ""})
    assert await value_for(p, T1, ALICE) == ""


# --- P-5.2.3 precedence ---------------------------------------------------------------------------------------
ALL_SCOPES = [
    {"key": KEY, "value": "global"},
    {"key": KEY, "value": "t1-shared", "tenant_id": str(T1), "sharing": "shared"},
    {"key": KEY, "value": "t1-tenant", "tenant_id": str(T1)},
    {"key": KEY, "value": "t1-alice", "tenant_id": str(T1), "owner_id": str(ALICE)},
]


async def test_precedence_private_then_tenant_then_shared_then_global() -> None:
    assert await value_for(plugin(ALL_SCOPES), T1, ALICE) == "t1-alice"
    assert await value_for(plugin(ALL_SCOPES), T1, BOB) == "t1-tenant"
    assert await value_for(plugin([ALL_SCOPES[0], ALL_SCOPES[1], ALL_SCOPES[3]]), T1, BOB) == "t1-shared"
    assert await value_for(plugin([ALL_SCOPES[0], ALL_SCOPES[3]]), T1, BOB) == "global"
    assert await value_for(plugin(ALL_SCOPES[1:]), T2, ALICE) is None


async def test_other_tenants_see_globals_only() -> None:
    p = plugin(ALL_SCOPES)
    assert await value_for(p, T2, ALICE) == "global"
    assert await value_for(p, T2, BOB) == "global"
    assert await value_for(p, NIL_UUID, NIL_UUID) == "global"  # anonymous


async def test_metadata_of_each_scope() -> None:
    p = plugin(ALL_SCOPES)
    ref = SecretRef(KEY)
    alice = await p.get(SecurityContext(subject_id=ALICE, subject_tenant_id=T1), ref)
    assert alice is not None
    assert (alice.sharing, alice.owner_tenant_id, alice.owner_id) == ("private", T1, ALICE)
    bob = await p.get(SecurityContext(subject_id=BOB, subject_tenant_id=T1), ref)
    assert bob is not None
    assert (bob.sharing, bob.owner_tenant_id, bob.owner_id) == ("tenant", T1, None)
    other = await p.get(SecurityContext(subject_id=BOB, subject_tenant_id=T2), ref)
    assert other is not None
    assert (other.sharing, other.owner_tenant_id, other.owner_id) == (
        "shared",
        NIL_UUID,
        None,
    )
    shared = await plugin(ALL_SCOPES[:2]).get(SecurityContext(subject_id=BOB, subject_tenant_id=T1), ref)
    assert shared is not None
    assert (shared.sharing, shared.owner_tenant_id) == ("shared", T1)


async def test_missing_is_none() -> None:
    assert await value_for(plugin(ALL_SCOPES), T1, ALICE, "nothing-here") is None


def test_plugin_repr_counts_without_values() -> None:
    p = plugin([{"key": KEY, "value": CANARY}])
    assert repr(p) == "StaticCredStorePlugin(secrets=1)"


def test_definition_matches_the_spec() -> None:
    assert DEFINITION.name == "static-credstore"
    assert DEFINITION.host == "credstore"
    assert DEFINITION.instance_id == CREDSTORE_PLUGIN_SPEC_ID + "x.core._.static_credstore.v1"
    assert DEFINITION.priority == 100
    assert DEFINITION.config_type is StaticCredStoreConfig
    assert isinstance(plugin([]), CredStorePlugin)
    registered: list[PluginDef] = []
    static_credstore.fabrikit_register_plugins(registered.append, {})
    assert registered == [DEFINITION]
