"""The packaged dev profile used when no config is given (K-4.1)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def dev_profile() -> dict[str, Any]:
    text = resources.files("fabrikit").joinpath("dev-profile.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}
