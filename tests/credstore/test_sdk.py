"""P-5.1 SecretRef and SecretValue."""

from __future__ import annotations

import pickle
from uuid import UUID

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel.errors import InvalidArgument
from fabrikit.modules.credstore.sdk import (
    CREDSTORE_PLUGIN_SPEC,
    CREDSTORE_PLUGIN_SPEC_ID,
    GetSecretResponse,
    InvalidSecretRef,
    SecretMetadata,
    SecretRef,
    SecretValue,
)

CANARY = "canary-7f3c1e9b-value"
names = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=255)


@given(names)
def test_cred_prefix_is_optional(name: str) -> None:
    assert SecretRef.parse("cred://" + name) == SecretRef.parse(name) == SecretRef(name)
    assert SecretRef.parse(name).name == name
    assert str(SecretRef(name)) == "cred://" + name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cred://",
        "a b",
        "a.b",
        "a/b",
        "ключ",
        "x" * 256,
        "cred://" + "x" * 256,
        "cred://cred://x",
        "CRED://x",
        42,
    ],
)
def test_invalid_refs_are_rejected(text: object) -> None:
    with pytest.raises(InvalidSecretRef) as info:
        SecretRef.parse(text)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidArgument)
    assert info.value.code == "invalid_secret_ref"
    assert info.value.status == 400


def test_an_invalid_ref_is_never_echoed() -> None:
    with pytest.raises(InvalidSecretRef) as info:
        SecretRef.parse(CANARY + " oops")
    assert CANARY not in str(info.value)
    assert CANARY not in str(info.value.to_problem().to_dict())


def test_the_longest_name_is_accepted() -> None:
    assert SecretRef.parse("x" * 255).name == "x" * 255


def test_secret_value_never_shows_itself() -> None:
    value = SecretValue(CANARY)
    for text in (repr(value), str(value), f"{value}", f"{value!r}", f"{value}", format(value, ">40")):
        assert text == "[REDACTED]"
    assert value.reveal_bytes() == CANARY.encode()
    assert value.reveal_str() == CANARY
    assert SecretValue(CANARY.encode()) == value
    assert SecretValue("other") != value
    with pytest.raises(TypeError):
        msgspec.json.encode(value)
    with pytest.raises(TypeError):
        pickle.dumps(value)
    with pytest.raises(TypeError):
        SecretValue(42)  # type: ignore[arg-type]


def test_responses_do_not_show_the_value() -> None:
    response = GetSecretResponse(value=SecretValue(CANARY), owner_tenant_id=UUID(int=1), sharing="tenant")
    meta = SecretMetadata(
        value=SecretValue(CANARY), owner_id=None, sharing="shared", owner_tenant_id=UUID(int=0)
    )
    assert response.is_inherited is False
    for obj in (response, meta):
        assert CANARY not in repr(obj)
        assert CANARY not in str(obj)
        with pytest.raises(TypeError):
            msgspec.json.encode(obj)


def test_spec_id() -> None:
    assert CREDSTORE_PLUGIN_SPEC_ID == "gts.x.core.modkit.plugin.v1~x.core.credstore.plugin.v1~"
    assert CREDSTORE_PLUGIN_SPEC.id == CREDSTORE_PLUGIN_SPEC_ID
