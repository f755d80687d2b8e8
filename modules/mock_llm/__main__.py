"""``python -m fabrikit.modules.mock_llm --port N``: run the mock alone until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .config import MockLlmConfig
from .server import MockLlmServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fabrikit.modules.mock_llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--directives", default="", help="default_directives applied to every request")
    parser.add_argument("--api-key", default=None, help="expected_api_key")
    args = parser.parse_args(argv)
    config = MockLlmConfig(
        host=args.host, port=args.port, default_directives=args.directives, expected_api_key=args.api_key
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config))


async def _serve(config: MockLlmConfig) -> None:
    async with MockLlmServer(config) as server:
        print(f"mock-llm listening on {server.base_url}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    main()
