"""The SDK surface (P-1.4, P-1.5.1): error table, result encoding, summaries, the client Protocol."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.kernel import errors as kernel_errors
from fabrikit.modules import types_registry
from fabrikit.modules.types_registry import TypesRegistry, sdk
from fabrikit.modules.types_registry.sdk import (
    ERRORS,
    ActivationFailed,
    AlreadyExists,
    GtsEntity,
    GtsId,
    Internal,
    InvalidGtsId,
    NotFound,
    NotReady,
    RegisterError,
    RegisterOk,
    RegisterSummary,
    TypesRegistryClient,
    TypesRegistryError,
    ValidationFailed,
    summarize,
)
from tests.types_registry.docs import schema


@pytest.mark.parametrize(
    ("error", "status", "code", "title", "kernel_base"),
    [
        (InvalidGtsId, 400, "TYPES_REGISTRY_INVALID_GTS_ID", "Invalid GTS ID", kernel_errors.InvalidArgument),
        (NotFound, 404, "TYPES_REGISTRY_NOT_FOUND", "Entity not found", kernel_errors.NotFound),
        (
            AlreadyExists,
            409,
            "TYPES_REGISTRY_ALREADY_EXISTS",
            "Entity already exists",
            kernel_errors.Conflict,
        ),
        (
            ValidationFailed,
            422,
            "TYPES_REGISTRY_VALIDATION_FAILED",
            "Validation failed",
            kernel_errors.Unprocessable,
        ),
        (NotReady, 503, "TYPES_REGISTRY_NOT_READY", "Service not ready", kernel_errors.Unavailable),
        (ActivationFailed, 500, "TYPES_REGISTRY_ACTIVATION_FAILED", "Registry activation failed", None),
        (Internal, 500, "TYPES_REGISTRY_INTERNAL", "Internal Server Error", kernel_errors.Internal),
    ],
)
def test_error_table(
    error: type[TypesRegistryError], status: int, code: str, title: str, kernel_base: type | None
) -> None:
    assert (error.status, error.code, error.title) == (status, code, title)
    assert issubclass(error, TypesRegistryError)
    assert issubclass(error, kernel_errors.DomainError)
    if kernel_base is not None:
        assert issubclass(error, kernel_base)
    assert code in ERRORS


def test_problem_bodies() -> None:
    problem = NotFound("Entity 'x' not found").to_problem(trace_id="t1")
    body = problem.to_dict()
    assert body["code"] == "TYPES_REGISTRY_NOT_FOUND"
    assert body["type"] == "urn:fabrikit:problem:TYPES_REGISTRY_NOT_FOUND"
    assert (body["status"], body["title"], body["detail"]) == (
        404,
        "Entity not found",
        "Entity 'x' not found",
    )
    internal = Internal("secret stack detail").to_problem().to_dict()
    assert internal["detail"] == "An internal error occurred."
    failed = ActivationFailed(["a: one", "b: two"])
    assert failed.detail == "2 entities failed validation: a: one; b: two"
    assert failed.failures == ["a: one", "b: two"]


async def test_result_encoding() -> None:
    reg = TypesRegistry()
    reg.activate()
    ok, err = await reg.register([schema("gts.acme.app.ns.thing.v1~"), {"nope": 1}])
    encoded_ok = msgspec.to_builtins(ok)
    assert encoded_ok["status"] == "ok"
    assert encoded_ok["entity"]["gts_id"] == "gts.acme.app.ns.thing.v1~"
    assert encoded_ok["entity"]["id"] == str(GtsId.parse("gts.acme.app.ns.thing.v1~").uuid)
    assert msgspec.to_builtins(err) == {
        "status": "error",
        "code": "TYPES_REGISTRY_INVALID_GTS_ID",
        "error": "No GTS ID field found in entity",
    }
    decoded = msgspec.json.decode(msgspec.json.encode([ok, err]), type=list[RegisterOk | RegisterError])
    assert decoded == [ok, err]


def test_summary() -> None:
    gts_id = GtsId.parse("gts.acme.app.ns.thing.v1~")
    entity = GtsEntity(
        id=gts_id.uuid, gts_id=gts_id.id, segments=gts_id.segments, is_schema=True, content={"$schema": "x"}
    )
    ok = RegisterOk(entity)
    err = RegisterError(gts_id=None, code="X", error="y")
    assert summarize([]) == RegisterSummary(0, 0, 0)
    assert summarize([err, err]) == RegisterSummary(total=2, succeeded=0, failed=2)
    assert summarize([ok, err]) == RegisterSummary(total=2, succeeded=1, failed=1)


def test_the_engine_is_a_client() -> None:
    assert isinstance(TypesRegistry(), TypesRegistryClient)


def test_public_names_are_exported() -> None:
    for name in sdk.__all__:
        assert hasattr(sdk, name), name
    assert set(sdk.__all__) <= set(types_registry.__all__)
    assert "TypesRegistry" in types_registry.__all__


def test_domain_imports_no_web_or_db_libraries() -> None:
    import pathlib

    forbidden = ("litestar", "piccolo", "aiohttp", "uvicorn", "asyncpg", "aiosqlite")
    domain = pathlib.Path(types_registry.__file__).parent / "domain"
    for path in domain.glob("*.py"):
        text = path.read_text()
        for lib in forbidden:
            assert f"import {lib}" not in text, (path.name, lib)
            assert f"from {lib}" not in text, (path.name, lib)
