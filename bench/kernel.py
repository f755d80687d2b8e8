"""K-5/K-6 kernel overhead: resolve + init + start + stop of 1,000 synthetic modules in one process.

Each module is stateful and depends on up to 5 earlier ones (seeded), so the resolver sees a real DAG. The
runtime runs without entry points (``Runtime(load_entry_points=False, extra=classes)``) with every module
enabled; logging goes through ``configure_logging`` at ``info`` to a null stream, as in production.

Run: ``.venv/bin/python bench/kernel.py [--modules N] [--runs R] [--profile]``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import statistics
import tempfile
import time
from typing import Any

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, Runtime
from fabrikit.kernel.logging import configure_logging
from fabrikit.kernel.testing import make_config

TARGET_SECONDS = 1.0
MAX_DEPS = 5
SEED = 1234


def synthetic_modules(count: int, seed: int = SEED) -> list[type[Module]]:
    rng = random.Random(seed)
    names = [f"m{i:04d}" for i in range(count)]
    classes: list[type[Module]] = []

    async def init(self: Module, ctx: ModuleContext) -> None:
        return None

    async def start(self: Module, ctx: ModuleContext) -> None:
        return None

    async def stop(self: Module, ctx: ModuleContext) -> None:
        return None

    for i, name in enumerate(names):
        deps = rng.sample(names[:i], k=min(i, rng.randint(0, MAX_DEPS)))
        manifest = Manifest(name, version="1.0.0", deps=deps, capabilities={Capability.STATEFUL})
        ns: dict[str, Any] = {"manifest": manifest, "init": init, "start": start, "stop": stop}
        classes.append(type(f"Synthetic{i}", (Module,), ns))
    return classes


async def one_run(classes: list[type[Module]], home: str) -> dict[str, float]:
    config = make_config({"modules": {c.manifest.name: None for c in classes}}, home=home)
    t0 = time.perf_counter()
    runtime = Runtime(config, load_entry_points=False, extra=classes)
    await runtime.startup()
    t1 = time.perf_counter()
    await runtime.shutdown()
    t2 = time.perf_counter()
    if runtime.plan is None or len(runtime.plan.resolution.order) != len(classes):
        raise RuntimeError("the benchmark did not run every module")
    return {"startup": t1 - t0, "shutdown": t2 - t1, "total": t2 - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries of one run")
    args = parser.parse_args()

    configure_logging(level="info", format="json", stream=io.StringIO())
    classes = synthetic_modules(args.modules)
    edges = sum(len(c.manifest.deps) for c in classes)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="fabrikit-bench-") as home:
        asyncio.run(one_run(classes, home))  # warm-up: imports, first-call caches
        for _ in range(args.runs):
            runs.append(asyncio.run(one_run(classes, home)))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            asyncio.run(one_run(classes, home))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    print(f"kernel: {args.modules} modules, {edges} dependency edges, {args.runs} runs (median)")
    print(f"{'step':<22}{'median s':>10}{'min s':>10}")
    for key, label in (("startup", "resolve+init+start"), ("shutdown", "stop"), ("total", "total")):
        values = [r[key] for r in runs]
        print(f"{label:<22}{statistics.median(values):>10.3f}{min(values):>10.3f}")
    value = statistics.median(r["total"] for r in runs)
    print(
        json.dumps(
            {
                "bench": "kernel",
                "metric": "resolve_init_start_stop_1000_modules",
                "value": round(value, 4),
                "unit": "s",
                "target": TARGET_SECONDS,
                "ok": value <= TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    main()
