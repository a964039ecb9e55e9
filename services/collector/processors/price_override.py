"""Per-project prices for custom and fine-tuned models, matched before genai-prices' data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from genai_prices.types import ModelPrice

from .settings import SettingsReader

MATCH_KINDS = ("exact", "prefix", "regex")
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


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A project's price for the models `model` matches, in USD per million tokens.

    Matching ignores case; `regex` must match the whole model name. `provider`, when set, must
    equal the call's provider (OTel `gen_ai.provider.name` values). Cache prices left unset bill
    those tokens at the input price, as genai-prices does.
    """

    model: str
    input_usd_per_million_tokens: Decimal
    output_usd_per_million_tokens: Decimal
    version: str
    match: str = "exact"
    provider: str | None = None
    cache_read_usd_per_million_tokens: Decimal | None = None
    cache_write_usd_per_million_tokens: Decimal | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def model_price(self) -> ModelPrice:
        """The override as a genai-prices ModelPrice, so both price sources compute alike."""
        return ModelPrice(
            input_mtok=self.input_usd_per_million_tokens,
            output_mtok=self.output_usd_per_million_tokens,
            cache_read_mtok=self.cache_read_usd_per_million_tokens,
            cache_write_mtok=self.cache_write_usd_per_million_tokens,
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


class OverrideTable:
    """Every project's overrides with their model matchers compiled once."""

    def __init__(self, overrides: Mapping[str, Sequence[PriceOverride]]) -> None:
        self._entries = {
            project_id: tuple((entry, _matcher(entry), entry.model_price()) for entry in entries)
            for project_id, entries in overrides.items()
        }

    def find(
        self, project_id: str, provider: str | None, models: tuple[str, ...]
    ) -> tuple[PriceOverride, ModelPrice] | None:
        """The project's first override (in configured order) matching the provider and a model."""
        for entry, matches, model_price in self._entries.get(project_id, ()):
            if entry.provider is not None and entry.provider != provider:
                continue
            if any(matches(model) for model in models):
                return entry, model_price
        return None


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


def _problems(entry: PriceOverride) -> list[str]:
    problems: list[str] = []
    if not entry.model:
        problems.append("model must be a non-empty string")
    if entry.match not in MATCH_KINDS:
        problems.append(f"match must be one of {', '.join(MATCH_KINDS)}, got {entry.match!r}")
    elif entry.match == "regex":
        try:
            re.compile(entry.model)
        except re.error as exc:
            problems.append(f"model is not a valid regular expression: {exc}")
    if not entry.version:
        problems.append("version must be a non-empty string")
    if entry.provider is not None and not entry.provider:
        problems.append("provider must be a non-empty string when set")
    prices = {
        "input_usd_per_million_tokens": entry.input_usd_per_million_tokens,
        "output_usd_per_million_tokens": entry.output_usd_per_million_tokens,
        "cache_read_usd_per_million_tokens": entry.cache_read_usd_per_million_tokens,
        "cache_write_usd_per_million_tokens": entry.cache_write_usd_per_million_tokens,
    }
    for key, price in prices.items():
        if price is None and key.startswith("cache_"):
            continue
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            problems.append(f"{key} must be a finite non-negative Decimal, got {price!r}")
    return problems


def _matcher(entry: PriceOverride) -> Callable[[str], bool]:
    target = entry.model.lower()
    if entry.match == "regex":
        pattern = re.compile(entry.model, re.IGNORECASE)
        return lambda model: pattern.fullmatch(model) is not None
    if entry.match == "prefix":
        return lambda model: model.lower().startswith(target)
    return lambda model: model.lower() == target
