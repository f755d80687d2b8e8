from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._config import AppConfig, load_config
from .._context import RuntimeView
from .._hub import ClientHub
from .._runtime import Runtime


def make_config(
    raw: Mapping[str, Any] | None = None,
    *,
    home: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> AppConfig:
    """Builds an AppConfig from a mapping as if it were the YAML file (expansion and validation included)."""
    data = dict(raw or {})
    server = dict(data.get("server") or {})
    if home is not None:
        server.setdefault("home_dir", str(home))
    data["server"] = server
    return load_config(None, env=dict(env or {}), default_profile=data)


class RuntimeHarness:
    """Starts a runtime without entry points in a temporary home; exposes hub, view and an HTTP client.

    ``async with RuntimeHarness(modules=[A, B], plugins=[defn], config={...}) as h: ...``
    """

    def __init__(
        self,
        *,
        modules: Sequence[Any] = (),
        plugins: Sequence[Any] = (),
        config: Mapping[str, Any] | None = None,
        clients: Mapping[type, Any] | None = None,
        home: str | Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._tmp = None if home is not None else tempfile.TemporaryDirectory(prefix="fabrikit-test-")
        self.home = Path(home) if home is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        raw = dict(config or {})
        raw.setdefault("modules", {m.manifest.name: None for m in modules if hasattr(m, "manifest")})
        self.config = make_config(raw, home=self.home, env=env)
        self.runtime = Runtime(
            self.config, load_entry_points=False, extra=[*modules, *plugins], clients=clients
        )
        self.http: Any = None
        self.base_url = ""
        self._stack = contextlib.AsyncExitStack()

    @property
    def hub(self) -> ClientHub:
        return self.runtime.hub

    @property
    def view(self) -> RuntimeView:
        return self.runtime.view()

    async def __aenter__(self) -> RuntimeHarness:
        try:
            await self._stack.enter_async_context(self.runtime.started())
        except BaseException:
            if self._tmp is not None:
                self._tmp.cleanup()
            raise
        from ..http import RestHost

        host = self.runtime.hub.try_get(RestHost)  # type: ignore[type-abstract]
        base_url = getattr(host, "base_url", "") if host is not None else ""
        self.base_url = base_url
        if base_url:
            import httpx

            self.http = await self._stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, timeout=30)
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._stack.aclose()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[RuntimeHarness]:
        async with self:
            yield self
