"""JSON Schema handling: dialects, structural checks, the ``x-gts-ref`` keyword, compiled validators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import Draft7Validator, Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for

from .entity import copy_json
from .errors import InvalidGtsId, ValidationFailed
from .gts_id import GTS_URI_PREFIX, GtsId, strip_gts_uri
from .keywords import iter_keywords, resolve_pointer
from .pattern import GtsPattern

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
X_GTS_REF = "x-gts-ref"
REQUIRED_FORMATS = ("uri", "date-time", "hostname")
MAX_REPORTED_ERRORS = 50

_EXTENDED: dict[type[Validator], type[Validator]] = {}


def dialect_class(content: Mapping[str, Any]) -> type[Validator]:
    """The stock jsonschema class for the document's ``$schema``; unknown dialects fail (P-1.2.2)."""
    cls = validator_for(content, default=None)  # type: ignore[arg-type]
    if cls is None:
        raise ValidationFailed(f"Unknown JSON Schema dialect '{content.get('$schema')}'")
    return cls


def gts_validator_class(stock: type[Validator]) -> type[Validator]:
    """``stock`` plus the ``x-gts-ref`` keyword; one class per dialect, built once."""
    cls = _EXTENDED.get(stock)
    if cls is None:
        cls = _EXTENDED[stock] = extend(stock, {X_GTS_REF: _x_gts_ref})
    return cls


def check_schema_structure(content: Mapping[str, Any]) -> None:
    """Registration-time checks of a schema (P-1.3.2): metaschema, ``$ref`` and ``x-gts-ref`` forms."""
    cls = dialect_class(content)
    try:
        cls.check_schema(content)
    except SchemaError as exc:  # check_schema already picked the most relevant error
        raise ValidationFailed(f"Invalid JSON Schema at {exc.json_path}: {exc.message}") from None
    for kw in iter_keywords(content):
        if kw.name == "$ref" and isinstance(kw.value, str):
            check_ref_form(kw.value, kw.pointer)
        elif kw.name == X_GTS_REF:
            resolve_x_gts_ref(kw.value, content, kw.pointer)


def check_ref_form(ref: str, pointer: str = "") -> None:
    """``$ref`` is local (``#…``) or ``gts://<valid id>[#fragment]``: nothing is ever fetched (P-1.2.3)."""
    if ref.startswith("#"):
        return
    if ref.startswith(GTS_URI_PREFIX):
        target = ref[len(GTS_URI_PREFIX) :].split("#", 1)[0]
        try:
            parsed = GtsId.parse(target)
        except InvalidGtsId as exc:
            raise ValidationFailed(f"Invalid $ref '{ref}' at {pointer or '/'}: {exc.detail}") from None
        if parsed.id != target:
            raise ValidationFailed(f"Invalid $ref '{ref}' at {pointer or '/'}: whitespace around the id")
        return
    raise ValidationFailed(
        f"Invalid $ref '{ref}' at {pointer or '/'}: only '#…' and 'gts://<GTS id>' references are allowed"
    )


def resolve_x_gts_ref(value: Any, document: Mapping[str, Any], pointer: str = "") -> str:
    """The id or pattern an ``x-gts-ref`` stands for (P-1.2.4); a JSON Pointer is resolved in ``document``."""
    where = pointer or "/"
    if not isinstance(value, str):
        raise ValidationFailed(f"Invalid x-gts-ref at {where}: must be a string, got {type(value).__name__}")
    text = value
    if value.startswith("/"):
        try:
            target = resolve_pointer(document, value)
        except LookupError as exc:
            raise ValidationFailed(f"Invalid x-gts-ref '{value}' at {where}: {exc}") from None
        if not isinstance(target, str):
            raise ValidationFailed(f"Invalid x-gts-ref '{value}' at {where}: the pointer must reach a string")
        text = strip_gts_uri(target)
    elif not value.startswith("gts."):
        raise ValidationFailed(
            f"Invalid x-gts-ref '{value}' at {where}: expected 'gts.*', a GTS id or pattern, "
            "or a JSON Pointer such as '/$id'"
        )
    try:
        GtsPattern.parse(text)
    except InvalidGtsId as exc:
        raise ValidationFailed(f"Invalid x-gts-ref '{value}' at {where}: {exc.detail}") from None
    return text


def compile_copy(gts_id: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """The document the validators use: ``$id`` = ``gts://<id>``, ``x-gts-ref`` pointers resolved.

    ``$schema`` is dropped because jsonschema switches to the *stock* class of a referenced document's
    ``$schema`` while following ``$ref``, which would silently skip ``x-gts-ref`` in bases. The dialect lives on
    in the ``referencing`` resource instead (see ``schema_resource``). Consequence: a referenced schema is
    evaluated with the keyword set of the schema that references it (identical for the common draft-07 ⇄
    2020-12 object keywords; differs only for e.g. array-form ``items``).
    """
    document = copy_json(content)
    for kw in list(iter_keywords(document)):
        if kw.name == X_GTS_REF:
            kw.schema[X_GTS_REF] = resolve_x_gts_ref(kw.value, content, kw.pointer)
    document["$id"] = GTS_URI_PREFIX + gts_id
    document.pop("$schema", None)
    return document


def schema_resource(content: Mapping[str, Any], compiled: dict[str, Any]) -> referencing.Resource[Any]:
    specification = referencing.jsonschema.specification_with(str(content["$schema"]))
    return specification.create_resource(compiled)


def ref_errors(gts_id: str, compiled: Mapping[str, Any], registry: referencing.Registry[Any]) -> list[str]:
    """Every ``$ref`` of the schema that does not resolve in ``registry`` (no remote retrieval)."""
    resolver = registry.resolver(base_uri=GTS_URI_PREFIX + gts_id)
    problems: list[str] = []
    for kw in iter_keywords(compiled):
        if kw.name != "$ref" or not isinstance(kw.value, str):
            continue
        if kw.in_nested_id and kw.value.startswith("#"):
            continue  # relative to a nested $id: jsonschema resolves it against that base at validation
        try:
            resolver.lookup(kw.value)
        except referencing.exceptions.Unresolvable:
            problems.append(f"Unresolvable $ref '{kw.value}' at {kw.pointer or '/'}")
    return problems


def build_validator(
    content: Mapping[str, Any], compiled: dict[str, Any], registry: referencing.Registry[Any]
) -> Validator:
    """One validator for the schema, with format checking on (K §20) and ``x-gts-ref`` enforced."""
    stock = dialect_class(content)
    cls = gts_validator_class(stock)
    return cls(compiled, registry=registry, format_checker=stock.FORMAT_CHECKER)


def instance_errors(validator: Validator, content: Any) -> list[str]:
    """All validation messages for ``content`` (``"$.path: message"``), in a stable order."""
    try:
        errors = sorted(validator.iter_errors(content), key=lambda e: (e.json_path, e.message))
    except RecursionError:
        return ["Circular $ref chain: validation does not terminate"]
    except referencing.exceptions.Unresolvable as exc:
        return [f"Unresolvable $ref '{exc}'"]
    # A derived schema repeats its base's constraints, so the same failure can be reported twice.
    unique = list(dict.fromkeys(f"{err.json_path}: {err.message}" for err in errors))
    messages = unique[:MAX_REPORTED_ERRORS]
    if len(unique) > MAX_REPORTED_ERRORS:
        messages.append(f"… and {len(unique) - MAX_REPORTED_ERRORS} more error(s)")
    return messages


def assert_format_checkers() -> None:
    """Fail fast when a format checker is missing: jsonschema then passes such formats silently (K §20)."""
    probes = {"uri": "no scheme", "date-time": "2024-13-45", "hostname": "-bad-.example"}
    for stock in (Draft7Validator, Draft202012Validator):
        checker = stock.FORMAT_CHECKER
        missing = [fmt for fmt in REQUIRED_FORMATS if fmt not in checker.checkers]
        lax = [fmt for fmt in REQUIRED_FORMATS if fmt not in missing and checker.conforms(probes[fmt], fmt)]
        if missing or lax:
            raise RuntimeError(
                f"jsonschema format checkers {sorted(missing + lax)} are unavailable for {stock.__name__}: "
                "install jsonschema[format-nongpl] and rfc3339-validator"
            )


def _x_gts_ref(validator: Validator, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    if not isinstance(value, str) or value.startswith("/"):
        yield ValidationError(f"x-gts-ref {value!r} was not resolved when the schema was compiled")
        return
    prefix = value.split("*", 1)[0]
    try:
        parsed = GtsId.parse(instance)
    except InvalidGtsId as exc:
        yield ValidationError(f"{instance!r} is not a valid GTS id ({getattr(exc, 'cause', exc.detail)})")
        return
    if parsed.id != instance:
        yield ValidationError(f"{instance!r} must not carry surrounding whitespace")
    elif not instance.startswith(prefix):
        yield ValidationError(f"{instance!r} does not start with '{prefix}' (x-gts-ref)")
