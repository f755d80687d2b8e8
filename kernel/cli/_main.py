from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from .. import _config
from .._phases import StartupError
from .._resolve import ResolutionError
from . import _commands
from ._profile import dev_profile

COMMANDS = ("run", "check", "migrate", "modules", "plugins", "types", "openapi", "mock-llm")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", "-c", metavar="FILE", help="YAML config (default: $FABRIKIT_CONFIG or the dev profile)"
    )
    common.add_argument("-v", "--verbose", action="count", default=0, help="-v fabrikit debug, -vv all debug")
    common.add_argument("--log-format", choices=("auto", "json", "console"), default=None)
    p = argparse.ArgumentParser(
        prog="fabrikit", description="Compose services from modules and plugins.", parents=[common]
    )
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", parents=[common], help="start every enabled module (default)")
    c = sub.add_parser("check", parents=[common], help="validate config, module graph and plugin config")
    c.add_argument("--strict", action="store_true", help="treat discovery issues as errors")
    c.add_argument("--print-config", action="store_true", help="print the effective config, secrets redacted")
    m = sub.add_parser("migrate", parents=[common], help="run database migrations and exit")
    m.add_argument("--module", action="append", default=[], help="only this module (repeatable)")
    m.add_argument("--status", action="store_true", help="show applied/pending migrations without applying")
    for name, text in (("modules", "list installed modules"), ("plugins", "list installed plugins")):
        sub.add_parser(name, parents=[common], help=text).add_argument("--json", action="store_true")
    t = sub.add_parser("types", parents=[common], help="list GTS types and instances in the types registry")
    t.add_argument(
        "action", nargs="?", choices=("list", "export"), default="list", help="list (default) or export"
    )
    t.add_argument("--pattern", default=None, help="only ids matching this GTS pattern (list)")
    t.add_argument("--json", action="store_true")
    t.add_argument("--export", action="store_true", help="rewrite schemas/ from the SDK models")
    t.add_argument(
        "--export-check",
        action="store_true",
        help="exit 1 listing each difference between schemas/ and the SDKs",
    )
    t.add_argument("--check", action="store_true", help="with 'export': same as --export-check")
    o = sub.add_parser("openapi", parents=[common], help="print the REST host's OpenAPI document")
    o.add_argument("--output", "-o", default=None)
    ml = sub.add_parser("mock-llm", parents=[common], help="serve the mock LLM provider standalone")
    ml.add_argument("--host", default="127.0.0.1")
    ml.add_argument("--port", type=int, default=8089)
    return p


def _load(args: argparse.Namespace) -> _config.AppConfig:
    return _config.load_config(args.config, default_profile=dev_profile())


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    command = args.command or "run"
    try:
        config = _load(args)
    except _config.ConfigError as exc:
        for line in exc.messages:
            print(f"error: {line}", file=sys.stderr)
        return 1
    from ..logging import configure_logging

    level = "debug" if args.verbose else config.logging.level
    levels = dict(config.logging.levels or {})
    if args.verbose == 1:
        levels.setdefault("fabrikit", "debug")
        level = config.logging.level
    configure_logging(
        level=level,
        format=args.log_format or config.logging.format,
        levels=levels,
        file=config.logging.file,
        stream=sys.stderr if command != "run" else None,
    )
    handler = getattr(_commands, "cmd_" + command.replace("-", "_"))
    try:
        result: Any = handler(args, config)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except (ResolutionError, _config.ConfigError) as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
