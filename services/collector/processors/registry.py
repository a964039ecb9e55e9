"""The explicit registry of processor types: name -> builder from a mapping of settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.collector.pipeline import Builder

REGISTRY: Mapping[str, Builder] = {}

# The pipeline run when no pipeline file is configured.
DEFAULT_STEPS: tuple[Mapping[str, Any], ...] = ()
