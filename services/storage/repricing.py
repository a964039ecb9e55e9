"""Re-pricing, the computing part: stored LLM calls priced again with the current prices
(shared/pricing.py, as the collector prices them), the changed ones listed, and the report per
provider and model. No I/O here; services/storage/repricing_store.py reads and applies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.pricing import Resolve, price_call
from shared.span import LLMCall, Usage

# spans.cost_usd and its parts are numeric(24, 12): a new cost is compared and summed as it
# will be stored (PostgreSQL rounds half away from zero; costs are never negative).
COST_QUANTUM = Decimal("1e-12")

# The columns of a span as re-pricing reads them (repricing_store.SELECT_CALLS), in order.
CALL_COLUMNS = (
    "trace_id", "span_id", "start_time", "provider", "request_model", "response_model",
    "usage_source", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_usd", "input_cost_usd", "output_cost_usd", "cache_read_cost_usd",
    "cache_write_cost_usd", "price_source", "price_model", "price_version",
    "provider_key", "model_key", "operation_key", "service_name", "environment", "sample_weight",
)  # fmt: skip
_PRICE_AT = CALL_COLUMNS.index("cost_usd")
_KEYS_AT = CALL_COLUMNS.index("provider_key")

# A changed span as staged for the update (repricing_store.STAGE_COLUMNS order): its identity,
# its new price columns, the change of its cost and of its being unpriced, its rollup keys and
# its sample weight.
ChangedSpan = tuple[Any, ...]


@dataclass(slots=True)
class ModelChange:
    """What re-pricing does to one provider's model in the window."""

    provider: str
    model: str
    spans: int = 0
    spans_changed: int = 0
    newly_priced: int = 0
    newly_unpriced: int = 0
    cost_before_usd: Decimal = Decimal(0)
    cost_after_usd: Decimal = Decimal(0)

    @property
    def delta_usd(self) -> Decimal:
        """Cost after minus cost before (unpriced calls count zero)."""
        return self.cost_after_usd - self.cost_before_usd

    def add(self, other: ModelChange) -> None:
        """Add another model's counts and costs into this one."""
        self.spans += other.spans
        self.spans_changed += other.spans_changed
        self.newly_priced += other.newly_priced
        self.newly_unpriced += other.newly_unpriced
        self.cost_before_usd += other.cost_before_usd
        self.cost_after_usd += other.cost_after_usd

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as exact decimal strings."""
        return {
            "provider": self.provider,
            "model": self.model,
            "spans": self.spans,
            "spans_changed": self.spans_changed,
            "newly_priced": self.newly_priced,
            "newly_unpriced": self.newly_unpriced,
            "cost_before_usd": str(self.cost_before_usd),
            "cost_after_usd": str(self.cost_after_usd),
            "delta_usd": str(self.delta_usd),
        }


@dataclass(slots=True)
class Repricing:
    """The changes of one window, accumulated chunk by chunk of spans read."""

    project_id: str
    models: dict[tuple[str, str], ModelChange] = field(default_factory=dict)
    changed: list[ChangedSpan] = field(default_factory=list)

    def total(self) -> ModelChange:
        """Every model together."""
        total = ModelChange("", "")
        for change in self.models.values():
            total.add(change)
        return total

    def model_list(self) -> list[dict[str, Any]]:
        """The per-model report, largest change first."""
        ordered = sorted(self.models.values(),
                         key=lambda m: (-abs(m.delta_usd), m.provider, m.model))  # fmt: skip
        return [change.as_dict() for change in ordered]


def reprice_calls(repricing: Repricing, rows: Iterable[tuple[Any, ...]], resolve: Resolve) -> None:
    """Price each call (a row in CALL_COLUMNS order) again; record the changed ones."""
    for row in rows:
        old = row[_PRICE_AT:_KEYS_AT]
        new = _current_price(repricing.project_id, row, resolve)
        provider_key, model_key = row[_KEYS_AT], row[_KEYS_AT + 1]
        model = repricing.models.get((provider_key, model_key))
        if model is None:
            model = repricing.models[(provider_key, model_key)] = ModelChange(
                provider_key, model_key
            )
        model.spans += 1
        model.cost_before_usd += old[0] or 0
        model.cost_after_usd += new[0] or 0
        if new == old:
            continue
        model.spans_changed += 1
        model.newly_priced += old[0] is None and new[0] is not None
        model.newly_unpriced += old[0] is not None and new[0] is None
        cost_delta = (new[0] or Decimal(0)) - (old[0] or Decimal(0))
        unpriced_delta = (new[0] is None) - (old[0] is None)
        repricing.changed.append((*row[:3], *new, cost_delta, unpriced_delta, *row[_KEYS_AT:]))


def _current_price(project_id: str, row: tuple[Any, ...], resolve: Resolve) -> tuple[Any, ...]:
    """The price columns (cost_usd .. price_version) the current prices give the call."""
    call = dict(zip(CALL_COLUMNS, row, strict=True))
    llm = LLMCall(
        convention="", span_type="llm", provider=call["provider"],
        request_model=call["request_model"], response_model=call["response_model"],
        usage=Usage(
            input_tokens=call["input_tokens"], output_tokens=call["output_tokens"],
            cache_read_tokens=call["cache_read_tokens"],
            cache_write_tokens=call["cache_write_tokens"],
            reasoning_tokens=call["reasoning_tokens"], source=call["usage_source"] or "absent",
        ),
    )  # fmt: skip
    start: dt.datetime = call["start_time"]
    cost = price_call(resolve, project_id, llm, start)
    return (
        _stored(cost.total_usd), _stored(cost.input_usd), _stored(cost.output_usd),
        _stored(cost.cache_read_usd), _stored(cost.cache_write_usd), cost.price_source,
        cost.price_model, cost.price_version,
    )  # fmt: skip


def _stored(amount: Decimal | None) -> Decimal | None:
    """An amount as a numeric(24, 12) column holds it."""
    return None if amount is None else amount.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
