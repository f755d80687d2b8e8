"""module-orchestrator has no client API; its REST shape is documented here (P-7)."""

from __future__ import annotations

from fabrikit.kernel import ModuleState

STATE_MAP: dict[ModuleState, str] = {
    ModuleState.RUNNING: "healthy",
    ModuleState.STOPPING: "draining",
    ModuleState.FAILED: "quarantined",
}


def instance_state(state: ModuleState) -> str:
    """running → healthy, stopping → draining, failed → quarantined, anything else → registered."""
    return STATE_MAP.get(state, "registered")
