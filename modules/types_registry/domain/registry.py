"""The registry engine (P-1.3, P-1.4): staging, the ready switch, full validation, reads.

Public client methods are ``async`` (the ``TypesRegistryClient`` Protocol) over synchronous internals: nothing
here awaits, so each call runs atomically on the event loop. ``*_sync`` twins serve synchronous callers such as
the kernel's init phase.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
import referencing
from jsonschema.protocols import Validator

from .compat import gts_ref_targets, loosening_problems
from .entity import (
    DEFAULT_ENTITY_ID_FIELDS,
    GtsEntity,
    build_entity,
    canonical_bytes,
    check_kind,
    copy_json,
    extract_gts_id,
)
from .errors import (
    ActivationFailed,
    AlreadyExists,
    Internal,
    InvalidQuery,
    NotFound,
    NotReady,
    TypesRegistryError,
    ValidationFailed,
)
from .gts_id import GTS_URI_PREFIX, GtsId
from .pattern import GtsPattern
from .results import SEGMENT_SCOPES, ListQuery, RegisterError, RegisterOk, RegisterResult
from .validation import (
    assert_format_checkers,
    build_validator,
    check_schema_structure,
    compile_copy,
    instance_errors,
    ref_errors,
    schema_resource,
)

log = logging.getLogger("types_registry")

LOG_CONTENT_LIMIT = 8 * 1024
_SHOWN_ID_CHARS = 200

SchemaLookup = Callable[[str], Mapping[str, Any] | None]


class CompiledSchema(msgspec.Struct, frozen=True):
    """A published schema: its validator-ready copy and the ``referencing`` resource built from it."""

    compiled: dict[str, Any]
    resource: referencing.Resource[Any]


class TypesRegistry:
    """In-memory catalog of GTS schemas and instances; implements ``TypesRegistryClient``."""

    def __init__(self, *, entity_id_fields: Sequence[str] = DEFAULT_ENTITY_ID_FIELDS) -> None:
        assert_format_checkers()
        if isinstance(entity_id_fields, str) or not entity_id_fields:
            raise ValueError("entity_id_fields must be a non-empty list of field names")
        self._id_fields = tuple(entity_id_fields)
        self._ready = False
        self._staged: dict[str, GtsEntity] = {}
        self._entities: dict[str, GtsEntity] = {}
        self._canonical: dict[str, bytes] = {}
        self._schemas: dict[str, CompiledSchema] = {}
        self._refs: referencing.Registry[Any] = referencing.Registry()
        self._version = 0
        self._validators: dict[str, tuple[int, Validator]] = {}
        self._sorted: builtins.list[GtsEntity] | None = None

    # -- TypesRegistryClient -------------------------------------------------------------------------------

    async def register(self, entities: Sequence[Mapping[str, Any]]) -> builtins.list[RegisterResult]:
        return self.register_sync(entities)

    async def get(self, gts_id: str) -> GtsEntity:
        return self.get_sync(gts_id)

    async def list(self, query: ListQuery | None = None) -> builtins.list[GtsEntity]:
        return self.list_sync(query)

    def is_ready(self) -> bool:
        return self._ready

    # -- synchronous core ----------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Bumped whenever the set of schemas that ``$ref`` can reach changes; keys the validator cache."""
        return self._version

    @property
    def staged_ids(self) -> builtins.list[str]:
        """Ids waiting for ``activate`` (empty once ready)."""
        return builtins.list(self._staged)

    def register_sync(self, entities: Iterable[Mapping[str, Any]]) -> builtins.list[RegisterResult]:
        """One result per input, in order; later items see earlier ones (P-1.4.1). Raises only ``Internal``."""
        if isinstance(entities, Mapping | str | bytes):
            raise TypeError("register() takes a list of entities, not a single entity")
        return [self._register_item(item) for item in entities]

    def get_sync(self, gts_id: str) -> GtsEntity:
        """The entity with exactly this id (trimmed). The id is not parsed: malformed simply means absent."""
        self._require_ready()
        entity = self._entities.get(gts_id.strip()) if isinstance(gts_id, str) else None
        if entity is None:
            raise NotFound(f"Entity '{_shown(str(gts_id))}' not found")
        return entity

    def list_sync(self, query: ListQuery | None = None) -> builtins.list[GtsEntity]:
        """Entities passing every filter of ``query``, sorted by ``gts_id`` (P-1.4.2)."""
        self._require_ready()
        query = query or ListQuery()
        if query.segment_scope not in SEGMENT_SCOPES:
            raise InvalidQuery(f"segment_scope must be one of {builtins.list(SEGMENT_SCOPES)}")
        pattern = GtsPattern.parse(query.pattern) if query.pattern is not None else None
        return [
            entity
            for entity in self._sorted_entities()
            if (query.is_schema is None or entity.is_schema == query.is_schema)
            and (pattern is None or pattern.matches(GtsId(entity.gts_id, entity.segments)))
            and _segment_filter_matches(entity, query)
        ]

    def activate(self) -> None:
        """The ``post_init`` switch (P-1.3.3): validate everything staged, publish it, become ready.

        Repeat calls are no-ops. Any failure raises ``ActivationFailed`` listing every ``"<gts_id>: <message>"``
        and leaves the registry not ready.
        """
        if self._ready:
            return
        schema_ids = sorted(gid for gid, e in self._staged.items() if e.is_schema)
        instance_ids = sorted(gid for gid, e in self._staged.items() if not e.is_schema)
        failures: builtins.list[str] = []
        compiled: dict[str, CompiledSchema] = {}
        for gid in schema_ids:
            try:
                compiled[gid] = _compile(self._staged[gid])
            except ValidationFailed as exc:
                failures.append(f"{gid}: {exc.detail}")
        refs = referencing.Registry().with_resources(
            (GTS_URI_PREFIX + gid, schema.resource) for gid, schema in compiled.items()
        )
        lookup = self._lookup_in(self._staged)
        validators: dict[str, Validator] = {}
        for gid, schema in compiled.items():
            problems, validator = _schema_problems(self._staged[gid], schema, refs, lookup)
            failures.extend(f"{gid}: {problem}" for problem in problems)
            if validator is not None and not problems:
                validators[gid] = validator
        for gid in instance_ids:
            entity = self._staged[gid]
            type_id = entity.type_id or ""
            problem = _instance_problem(
                entity, validators.get(type_id), type_exists=lookup(type_id) is not None
            )
            if problem is not None:
                failures.append(f"{gid}: {problem}")
        if failures:
            for failure in failures:
                log.error("GTS entity failed activation: %s", failure)
            raise ActivationFailed(failures)
        self._version += 1
        self._refs = refs
        self._schemas = compiled
        self._validators = {gid: (self._version, v) for gid, v in validators.items()}
        for gid in [*schema_ids, *instance_ids]:
            self._entities[gid] = self._staged[gid]
        self._staged.clear()
        self._sorted = None
        self._ready = True
        log.info("types registry ready: %d schema(s), %d instance(s)", len(schema_ids), len(instance_ids))

    def validator_for(self, type_id: str) -> Validator:
        """The cached validator of a published schema, rebuilt when the registry version moved."""
        cached = self._validators.get(type_id)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        schema = self._schemas.get(type_id)
        entity = self._entities.get(type_id)
        if schema is None or entity is None:
            raise NotFound(f"Type schema '{_shown(type_id)}' not found")
        validator = build_validator(entity.content, schema.compiled, self._refs)
        self._validators[type_id] = (self._version, validator)
        return validator

    # -- internals -----------------------------------------------------------------------------------------

    def _register_item(self, item: Any) -> RegisterResult:
        gts_id: str | None = None
        try:
            if not isinstance(item, Mapping):
                raise ValidationFailed(f"Entity must be a JSON object, got {type(item).__name__}")
            gts_id = extract_gts_id(item, self._id_fields)
            return RegisterOk(self._register_one(item, gts_id))
        except TypesRegistryError as exc:
            _log_failure(gts_id, exc, item)
            return RegisterError(gts_id=gts_id, code=exc.code, error=exc.detail)
        except Exception as exc:
            log.exception("types registry: unexpected failure registering %s", gts_id)
            raise Internal(f"registering {gts_id!r}: {exc!r}") from exc

    def _register_one(self, item: Mapping[str, Any], raw_id: str) -> GtsEntity:
        gts_id = GtsId.parse(raw_id)
        content = copy_json(item)
        key = canonical_bytes(content)
        existing = self._staged.get(gts_id.id) or self._entities.get(gts_id.id)
        if existing is not None:
            if self._canonical[gts_id.id] == key:
                return existing
            raise AlreadyExists(f"Entity '{gts_id.id}' already exists with different content")
        check_kind(gts_id, content)
        if gts_id.is_schema:
            check_schema_structure(content)
        entity = build_entity(gts_id, content)
        if not self._ready:
            self._staged[entity.gts_id] = entity
        elif entity.is_schema:
            self._publish_schema(entity)
        else:
            self._publish_instance(entity)
        self._canonical[entity.gts_id] = key
        return entity

    def _publish_schema(self, entity: GtsEntity) -> None:
        schema = _compile(entity)
        refs = self._refs.with_resource(GTS_URI_PREFIX + entity.gts_id, schema.resource)
        published = self._lookup_in(self._entities)

        def lookup(gts_id: str) -> Mapping[str, Any] | None:
            return entity.content if gts_id == entity.gts_id else published(gts_id)

        problems, validator = _schema_problems(entity, schema, refs, lookup)
        if problems or validator is None:
            raise ValidationFailed("; ".join(problems))
        self._version += 1
        self._refs = refs
        self._schemas[entity.gts_id] = schema
        self._validators[entity.gts_id] = (self._version, validator)
        self._publish(entity)

    def _publish_instance(self, entity: GtsEntity) -> None:
        type_id = entity.type_id or ""
        exists = type_id in self._schemas
        validator = self.validator_for(type_id) if exists else None
        problem = _instance_problem(entity, validator, type_exists=exists)
        if problem is not None:
            raise ValidationFailed(problem)
        self._publish(entity)

    def _publish(self, entity: GtsEntity) -> None:
        self._entities[entity.gts_id] = entity
        self._sorted = None

    def _sorted_entities(self) -> builtins.list[GtsEntity]:
        if self._sorted is None:
            self._sorted = sorted(self._entities.values(), key=lambda e: e.gts_id)
        return self._sorted

    def _require_ready(self) -> None:
        if not self._ready:
            raise NotReady("The types registry is not ready yet (post_init has not completed); retry later")

    @staticmethod
    def _lookup_in(entities: Mapping[str, GtsEntity]) -> SchemaLookup:
        def lookup(gts_id: str) -> Mapping[str, Any] | None:
            entity = entities.get(gts_id)
            return entity.content if entity is not None and entity.is_schema else None

        return lookup


def _compile(entity: GtsEntity) -> CompiledSchema:
    compiled = compile_copy(entity.gts_id, entity.content)
    return CompiledSchema(compiled, schema_resource(entity.content, compiled))


def _schema_problems(
    entity: GtsEntity, schema: CompiledSchema, refs: referencing.Registry[Any], lookup: SchemaLookup
) -> tuple[builtins.list[str], Validator | None]:
    """Full checks of one schema (P-1.3.3 step 1): refs resolve, base exists, no loosening, compiles."""
    problems = ref_errors(entity.gts_id, schema.compiled, refs)
    cycle = _ref_cycle(entity.gts_id, lookup)
    if cycle:
        problems.append("Circular $ref chain: " + " -> ".join(cycle))
    base_id = entity.type_id
    if base_id is not None:
        base = lookup(base_id)
        if base is None:
            problems.append(f"Base schema '{base_id}' not found for chain validation")
        else:
            problems.extend(loosening_problems(entity.content, base_id, base, lookup))
    try:
        validator: Validator | None = build_validator(entity.content, schema.compiled, refs)
    except Exception as exc:  # jsonschema raises assorted types for uncompilable schemas
        problems.append(f"Validator does not compile: {exc}")
        validator = None
    return problems, validator


def _instance_problem(entity: GtsEntity, validator: Validator | None, *, type_exists: bool) -> str | None:
    """P-1.3.3 step 2: the instance's type is a schema and the content validates (``x-gts-ref`` included)."""
    type_id = entity.type_id
    if not type_exists:
        return f"Type schema '{type_id}' not found for instance"
    if validator is None:
        return f"Type schema '{type_id}' is invalid"
    errors = instance_errors(validator, entity.content)
    if errors:
        return f"Instance does not match its type '{type_id}': " + "; ".join(errors)
    return None


def _ref_cycle(start: str, lookup: SchemaLookup) -> builtins.list[str] | None:
    """A chain of whole-schema ``$ref`` inclusions leading back to ``start`` (validation would never end)."""
    stack: builtins.list[tuple[str, builtins.list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        current, path = stack.pop()
        content = lookup(current)
        if content is None:
            continue
        for target in gts_ref_targets(content):
            if target == start:
                return [*path, target]
            if target not in visited:
                visited.add(target)
                stack.append((target, [*path, target]))
    return None


def _segment_filter_matches(entity: GtsEntity, query: ListQuery) -> bool:
    if query.vendor is None and query.package is None and query.namespace is None:
        return True
    segments = entity.segments[:1] if query.segment_scope == "primary" else entity.segments
    return any(
        not seg.is_uuid_tail
        and (query.vendor is None or seg.vendor == query.vendor)
        and (query.package is None or seg.package == query.package)
        and (query.namespace is None or seg.namespace == query.namespace)
        for seg in segments
    )


def _log_failure(gts_id: str | None, exc: TypesRegistryError, item: Any) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "GTS entity registration failed: gts_id=%s code=%s error=%s content=%s",
            gts_id,
            exc.code,
            exc.detail,
            _clip(item),
        )


def _clip(item: Any) -> str:
    try:
        data = msgspec.json.encode(item)
    except (TypeError, msgspec.EncodeError):
        data = repr(item).encode()
    if len(data) <= LOG_CONTENT_LIMIT:
        return data.decode("utf-8", "replace")
    return data[:LOG_CONTENT_LIMIT].decode("utf-8", "ignore") + f"…(truncated, {len(data)} bytes)"


def _shown(gts_id: str) -> str:
    return gts_id if len(gts_id) <= _SHOWN_ID_CHARS else gts_id[:_SHOWN_ID_CHARS] + "…"
