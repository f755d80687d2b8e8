"""P-1 types-registry: instances validated per second through the registry vs a bare compiled validator.

Both sides validate the same documents against the same schema, in the same run, collecting every error:

- ``bare``: ``jsonschema.Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)``,
  compiled once, ``list(v.iter_errors(doc))`` per document;
- ``registry``: the registry's own validation path, ``registry.validator_for(type_id)`` (the cached compiled
  validator, looked up per document) then ``instance_errors(validator, doc)`` (what ``register`` and activation
  use), after ``activate()``.

Time is this process's CPU time (the machine is shared); rounds alternate bare/registry, and each side keeps
its best round (the least disturbed one); the metric is best bare time / best registry time. Two informative rows follow: full ``register()`` of new instances (id parsing, copying, canonical
bytes), and a plugin spec (``$ref`` to the base + the ``x-gts-ref`` keyword the bare validator lacks).

Run: ``.venv/bin/python bench/registry.py [--docs N] [--rounds R] [--profile]``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import time
from collections.abc import Callable
from typing import Any

import referencing
import referencing.jsonschema
from jsonschema import Draft7Validator, Draft202012Validator

from fabrikit.kernel.plugins import PluginSpec
from fabrikit.modules.types_registry import BASE_PLUGIN_SCHEMA, TypesRegistry, ensure_all_ok
from fabrikit.modules.types_registry.domain.validation import compile_copy, instance_errors

TARGET_RATIO = 0.9
SEED = 1234
TYPE_ID = "gts.x.bench.registry.record.v1~"
SPEC_ID = "gts.x.core.modkit.plugin.v1~x.bench.registry.plugin.v1~"

SCHEMA: dict[str, Any] = {
    "$id": "gts://" + TYPE_ID,
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "endpoint", "host", "created_at", "weight", "tags", "limits"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z][a-z0-9-]*$"},
        "endpoint": {"type": "string", "format": "uri"},
        "host": {"type": "string", "format": "hostname"},
        "created_at": {"type": "string", "format": "date-time"},
        "weight": {"type": "integer", "minimum": 0, "maximum": 1000},
        "mode": {"enum": ["active", "standby", "drain"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 16, "uniqueItems": True},
        "limits": {
            "type": "object",
            "properties": {"rps": {"type": "number", "exclusiveMinimum": 0}, "burst": {"type": "integer"}},
            "required": ["rps"],
            "additionalProperties": False,
        },
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def documents(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        host = f"svc{i}.example.com"
        docs.append(
            {
                "name": f"upstream-{i}",
                "endpoint": f"https://{host}:{8000 + i % 1000}/v1/items?x={i}",
                "host": host,
                "created_at": f"2024-0{1 + i % 9}-1{i % 10}T12:{i % 60:02d}:00Z",
                "weight": rng.randrange(0, 1001),
                "mode": rng.choice(["active", "standby", "drain"]),
                "tags": [f"t{j}" for j in range(rng.randrange(0, 6))],
                "limits": {"rps": rng.uniform(0.5, 500.0), "burst": rng.randrange(1, 100)},
                "headers": {"x-team": f"team{i % 7}", "x-env": "prod"},
            }
        )
    return docs


def ready_registry() -> TypesRegistry:
    registry = TypesRegistry()
    ensure_all_ok(registry.register_sync([BASE_PLUGIN_SCHEMA, SCHEMA, bench_spec().schema()]))
    registry.activate()
    return registry


def bench_spec() -> PluginSpec:
    props = {"type": "object", "properties": {"region": {"type": "string"}}, "required": ["region"]}
    return PluginSpec(SPEC_ID, iface=object, properties=props)


def timed(fn: Callable[[], object]) -> float:
    """CPU seconds of this process: the machine is shared, and other processes' load must not skew a ratio."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def bare_loop(validator: Any, docs: list[dict[str, Any]]) -> Callable[[], object]:
    def run() -> object:
        return [list(validator.iter_errors(doc)) for doc in docs]

    return run


def registry_loop(registry: TypesRegistry, type_id: str, docs: list[dict[str, Any]]) -> Callable[[], object]:
    def run() -> object:
        return [instance_errors(registry.validator_for(type_id), doc) for doc in docs]

    return run


def compare(bare: Callable[[], object], reg: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    """(best bare seconds, best registry seconds, ratio of the two): the minimum is the least noisy estimate."""
    bare(), reg()  # warm caches (regexes, format checkers)
    bare_s, reg_s = [], []
    for i in range(rounds):
        if i % 2:
            reg_s.append(timed(reg))
            bare_s.append(timed(bare))
        else:
            bare_s.append(timed(bare))
            reg_s.append(timed(reg))
    return min(bare_s), min(reg_s), min(bare_s) / min(reg_s)


def sanity(registry: TypesRegistry, bare: Any, doc: dict[str, Any]) -> None:
    """Format checkers run on both sides: a bad uri, hostname and date-time are errors."""
    bad = {**doc, "endpoint": "no scheme", "host": "-bad-.example", "created_at": "2024-13-45"}
    theirs = {e.message for e in bare.iter_errors(bad)}
    ours = instance_errors(registry.validator_for(TYPE_ID), bad)
    assert len(theirs) == 3, theirs
    assert len(ours) == 3, ours


def spec_row(registry: TypesRegistry, count: int, rounds: int) -> tuple[float, float, float]:
    instances = [
        {
            "id": SPEC_ID + f"acme.bench.registry.p{i}.v1",
            "vendor": "acme",
            "priority": i,
            "properties": {"region": "eu"},
        }
        for i in range(count)
    ]
    spec_schema = bench_spec().schema()
    refs = referencing.Registry().with_resources(
        ("gts://" + gid, referencing.jsonschema.DRAFT7.create_resource(compile_copy(gid, doc)))
        for gid, doc in ((BASE_PLUGIN_SCHEMA["$id"][6:], BASE_PLUGIN_SCHEMA), (SPEC_ID, spec_schema))
    )
    bare = Draft7Validator(
        compile_copy(SPEC_ID, spec_schema), registry=refs, format_checker=Draft7Validator.FORMAT_CHECKER
    )
    return compare(bare_loop(bare, instances), registry_loop(registry, SPEC_ID, instances), rounds)


def register_row(bare: Callable[[], object], docs: list[dict[str, Any]], rounds: int) -> tuple[float, float]:
    """``register()`` of new instances after ready (validation plus id parsing, copying, bookkeeping), a fresh
    registry per round, interleaved with ``bare``: (best registry seconds, ratio of the best times)."""
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "id": {"type": "string"}}}
    batch = [{**doc, "id": TYPE_ID + f"acme.bench.registry.r{i}.v1"} for i, doc in enumerate(docs)]
    bare_s, reg_s = [], []
    for _ in range(rounds):
        registry = TypesRegistry()
        ensure_all_ok(registry.register_sync([schema]))
        registry.activate()
        bare_s.append(timed(bare))
        reg_s.append(timed(lambda reg=registry: ensure_all_ok(reg.register_sync(batch))))  # type: ignore[misc]
    return min(reg_s), min(bare_s) / min(reg_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    docs = documents(args.docs)
    registry = ready_registry()
    bare = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    sanity(registry, bare, docs[0])
    assert all(not instance_errors(registry.validator_for(TYPE_ID), d) for d in docs), (
        "documents must be valid"
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        registry_loop(registry, TYPE_ID, docs)()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

    bare_s, reg_s, ratio = compare(bare_loop(bare, docs), registry_loop(registry, TYPE_ID, docs), args.rounds)
    spec_bare, spec_reg, spec_ratio = spec_row(registry, args.docs, args.rounds)
    register_s, register_ratio = register_row(bare_loop(bare, docs), docs, args.rounds)

    n = args.docs
    print(f"registry: {n} documents x {args.rounds} rounds (best round), format checkers on")
    print(f"{'path':<46}{'docs/s':>12}{'ratio':>8}")
    print(f"{'bare Draft202012Validator.iter_errors':<46}{n / bare_s:>12,.0f}{'1.00':>8}")
    print(f"{'registry validator_for + instance_errors':<46}{n / reg_s:>12,.0f}{ratio:>8.2f}")
    print(f"{'plugin spec: bare Draft7 ($ref, no x-gts-ref)':<46}{n / spec_bare:>12,.0f}{'1.00':>8}")
    print(f"{'plugin spec: registry (x-gts-ref enforced)':<46}{n / spec_reg:>12,.0f}{spec_ratio:>8.2f}")
    print(f"{'register() of new instances, after ready':<46}{n / register_s:>12,.0f}{register_ratio:>8.2f}")
    print(
        json.dumps(
            {
                "bench": "registry",
                "metric": "validation_ratio_vs_bare_jsonschema",
                "value": round(ratio, 3),
                "unit": "ratio",
                "target": TARGET_RATIO,
                "ok": ratio >= TARGET_RATIO,
            }
        )
    )


if __name__ == "__main__":
    main()
