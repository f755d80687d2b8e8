"""K-2.1: malformed manifests and module classes fail when the class is defined."""

from __future__ import annotations

import pytest

from fabrikit.kernel._module import Capability, ConfigStruct, Manifest, ManifestError, Module


def test_snake_case_name_is_rejected_with_a_kebab_case_hint() -> None:
    with pytest.raises(ManifestError) as info:
        Manifest("mini_chat")
    assert str(info.value) == "invalid module name 'mini_chat': use kebab-case, e.g. 'mini-chat'"


@pytest.mark.parametrize(
    "name", ["", "MiniChat", "1chat", "-chat", "chat-", "mini--chat", "mini chat", "mini.chat"]
)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(ManifestError, match="invalid module name"):
        Manifest(name)


@pytest.mark.parametrize("name", ["a", "mini-chat", "oagw", "authn-resolver", "x1-2y"])
def test_valid_names_are_accepted(name: str) -> None:
    assert Manifest(name).name == name


def test_unknown_capability_suggests_the_closest_one() -> None:
    with pytest.raises(ManifestError) as info:
        Manifest("a", capabilities=["rest-host"])
    assert str(info.value) == (
        "unknown capability 'rest-host' (did you mean 'rest_host'?); known: db, rest, rest_host, stateful, system"
    )


def test_capabilities_accept_strings_and_enum_members() -> None:
    manifest = Manifest("a", capabilities=["db", Capability.REST])
    assert manifest.capabilities == {Capability.DB, Capability.REST}


def test_invalid_version_is_rejected() -> None:
    with pytest.raises(ManifestError, match="not a PEP 440 version"):
        Manifest("a", version="one")


def test_dependency_specifiers_are_split_from_names() -> None:
    manifest = Manifest("a", deps=("oagw>=0.2", "types-registry"), optional_deps=("b ~= 1.0",))
    assert manifest.deps == ("oagw", "types-registry")
    assert manifest.optional_deps == ("b",)
    assert (manifest.dep_specifier("oagw"), manifest.dep_specifier("b")) == (">=0.2", "~= 1.0")
    assert manifest.dep_specifier("types-registry") == ""


@pytest.mark.parametrize("dep", ["mini_chat", "Oagw", "oagw@1", "-x"])
def test_malformed_dependency_is_rejected(dep: str) -> None:
    with pytest.raises(ManifestError, match="invalid dependency"):
        Manifest("a", deps=(dep,))


def test_stateful_module_without_start_and_stop_is_rejected() -> None:
    with pytest.raises(ManifestError) as info:

        class Worker(Module):
            manifest = Manifest("worker", capabilities=[Capability.STATEFUL])

    assert str(info.value) == "module 'worker' declares capability 'stateful' but does not define start()"


def test_stateful_module_with_start_but_no_stop_is_rejected() -> None:
    with pytest.raises(ManifestError, match=r"does not define stop\(\)"):

        class Worker(Module):
            manifest = Manifest("worker", capabilities=[Capability.STATEFUL])

            async def start(self, ctx: object) -> None:  # type: ignore[override]
                return None


def test_stateful_module_with_start_and_stop_is_accepted() -> None:
    class Worker(Module):
        manifest = Manifest("worker", capabilities=[Capability.STATEFUL])

        async def start(self, ctx: object) -> None:  # type: ignore[override]
            return None

        async def stop(self, ctx: object) -> None:  # type: ignore[override]
            return None

    assert Worker.manifest.has(Capability.STATEFUL)


@pytest.mark.parametrize(
    ("capability", "method"),
    [
        (Capability.DB, "migrations"),
        (Capability.REST, "register_rest"),
        (Capability.REST_HOST, "rest_prepare"),
    ],
)
def test_other_capabilities_require_their_methods(capability: Capability, method: str) -> None:
    with pytest.raises(ManifestError, match=rf"does not define {method}\(\)"):
        type("M", (Module,), {"manifest": Manifest("m", capabilities=[capability])})


def test_capability_method_inherited_from_a_module_base_counts() -> None:
    class Base(Module):
        abstract = True

        async def start(self, ctx: object) -> None:  # type: ignore[override]
            return None

        async def stop(self, ctx: object) -> None:  # type: ignore[override]
            return None

    class Worker(Base):
        manifest = Manifest("worker", capabilities=[Capability.STATEFUL])

    assert Worker.manifest.name == "worker"


@pytest.mark.parametrize("config_type", [dict, int, "Config", None])
def test_bad_config_type_is_rejected(config_type: object) -> None:
    with pytest.raises(ManifestError, match=r"module 'm': config_type must be a ConfigStruct subclass, got "):
        type("M", (Module,), {"manifest": Manifest("m"), "config_type": config_type})


def test_config_struct_subclass_is_accepted() -> None:
    class Config(ConfigStruct):
        greeting: str = "hi"

    class WithConfig(Module):
        manifest = Manifest("m")
        config_type = Config

    assert WithConfig.config_type is Config


def test_missing_manifest_is_rejected() -> None:
    with pytest.raises(ManifestError, match="must set `manifest = Manifest"):
        type("NoManifest", (Module,), {})


def test_manifest_that_is_not_a_manifest_is_rejected() -> None:
    with pytest.raises(ManifestError):
        type("Wrong", (Module,), {"manifest": {"name": "wrong"}})
