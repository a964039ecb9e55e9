"""Reading per-project prices for custom and fine-tuned models from settings (the entries and
their matching are in shared/pricing.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.pricing import MATCH_KINDS, OverrideTable, PriceOverride

from .settings import SettingsReader

__all__ = ["MATCH_KINDS", "OverrideTable", "PriceOverride", "parse_overrides"]
_KEYS = (
    "model",
    "match",
    "provider",
    "input_usd_per_million_tokens",
    "output_usd_per_million_tokens",
    "cache_read_usd_per_million_tokens",
    "cache_write_usd_per_million_tokens",
    "version",
)


def parse_overrides(
    value: Any, path: str, problems: list[str]
) -> dict[str, tuple[PriceOverride, ...]]:
    """Overrides by project id from `{project_id: [entry, ...]}`, recording problems by path."""
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a mapping of project id to a list of overrides")
        return {}
    overrides: dict[str, tuple[PriceOverride, ...]] = {}
    for project_id, entries in value.items():
        project_path = f"{path}[{project_id!r}]"
        if not isinstance(project_id, str) or not project_id:
            problems.append(f"{project_path}: project id must be a non-empty string")
        elif isinstance(entries, str) or not isinstance(entries, Sequence):
            problems.append(f"{project_path}: expected a list of overrides")
        else:
            parsed = (
                _parse_entry(e, f"{project_path}[{i}]", problems) for i, e in enumerate(entries)
            )
            overrides[project_id] = tuple(entry for entry in parsed if entry is not None)
    return overrides


def _parse_entry(value: Any, path: str, problems: list[str]) -> PriceOverride | None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a mapping")
        return None
    entry_problems: list[str] = []
    reader = SettingsReader(value, path, entry_problems)
    reader.reject_unknown(_KEYS)
    fields = {
        "model": reader.text("model"),
        "match": reader.text("match", "exact"),
        "provider": reader.text("provider"),
        "input_usd_per_million_tokens": reader.decimal("input_usd_per_million_tokens"),
        "output_usd_per_million_tokens": reader.decimal("output_usd_per_million_tokens"),
        "cache_read_usd_per_million_tokens": reader.decimal("cache_read_usd_per_million_tokens"),
        "cache_write_usd_per_million_tokens": reader.decimal("cache_write_usd_per_million_tokens"),
        "version": reader.text("version"),
    }
    for key in (
        "model",
        "input_usd_per_million_tokens",
        "output_usd_per_million_tokens",
        "version",
    ):
        if fields[key] is None and reader.raw(key) is None:
            entry_problems.append(f"{reader.name(key)}: required")
    problems.extend(entry_problems)
    if entry_problems:
        return None
    try:
        return PriceOverride(**fields)  # type: ignore[arg-type]  # None-ness checked above
    except ValueError as exc:
        problems.append(f"{path}: {exc}")
        return None
