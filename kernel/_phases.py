"""Phase defaults, timeout precedence and the errors a failing phase raises (K-6, K-6.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "db": 300.0,
    "init": 30.0,
    "plugins": 10.0,
    "post_init": 60.0,
    "start": 30.0,
    "stop": 30.0,
}
SLOW_PHASE_SECONDS = 5.0
SLOW_SYNC_SECONDS = 1.0


class StartupError(RuntimeError):
    """Startup failed; the runtime has rolled back. ``report`` is the startup report."""

    def __init__(self, message: str, report: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report


class PhaseError(RuntimeError):
    def __init__(self, phase: str, module: str, cause: BaseException | str) -> None:
        self.phase, self.module, self.cause = phase, module, cause
        text = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{phase} of '{module}' failed: {text}")


class PhaseTimeoutError(PhaseError):
    def __init__(self, phase: str, module: str, seconds: float) -> None:
        self.seconds = seconds
        RuntimeError.__init__(self, f"{phase} of '{module}' did not finish within {seconds:.1f} s")
        self.phase, self.module, self.cause = phase, module, "timeout"


def _field(obj: Any, name: str) -> float | None:
    if obj is None:
        return None
    value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return None if value is None else float(value)


def phase_timeout(
    phase: str,
    module: str,
    *,
    module_timeouts: Mapping[str, Any],
    manifest_timeouts: Mapping[str, float] | None,
    runtime_timeouts: Any,
) -> float:
    """``runtime.module_timeouts.<m>`` > ``manifest.timeouts`` > ``runtime.timeouts`` > the phase table."""
    for candidate in (
        _field(module_timeouts.get(module), phase),
        _field(manifest_timeouts, phase),
        _field(runtime_timeouts, phase),
    ):
        if candidate is not None:
            return candidate
    return DEFAULT_TIMEOUTS[phase]
