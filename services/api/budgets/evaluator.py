"""The periodic budget evaluator of each API process: gauges for Prometheus, webhooks once.

Every process evaluates every budget (each exports the gauges it serves on its metrics port);
the webhook claims in Redis make each threshold crossing post once in all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import aiohttp
import redis.asyncio as redis
from psycopg_pool import AsyncConnectionPool

from services.api.budgets.spend import BudgetState, list_budgets, measure
from services.api.budgets.webhook import Webhooks
from services.api.config import ApiConfig
from services.api.metrics import ApiMetrics
from shared.background import cancel_and_wait

log = logging.getLogger(__name__)
Labels = tuple[str, str, str, str]


class BudgetEvaluator:
    """One round measures every budget, sets its gauges and posts crossed thresholds."""

    def __init__(
        self, pool: AsyncConnectionPool[Any], webhooks: Webhooks, metrics: ApiMetrics
    ) -> None:
        self._pool = pool
        self._webhooks = webhooks
        self._metrics = metrics
        self._exported: set[Labels] = set()

    async def run_once(self) -> list[BudgetState]:
        """Evaluate every budget now."""
        now = datetime.now(UTC)
        states = [await measure(self._pool, budget, now) for budget in
                  await list_budgets(self._pool, None)]  # fmt: skip
        exported = {self._export(state) for state in states}
        for labels in self._exported - exported:
            for gauge in self._gauges():
                with suppress(KeyError):
                    gauge.remove(*labels)
        self._exported = exported
        for state in states:
            await self._webhooks.notify(state)
        return states

    def _export(self, state: BudgetState) -> Labels:
        budget, metrics = state.budget, self._metrics
        labels = (budget.project_id, str(budget.budget_id), budget.scope, budget.period)
        seconds = (state.period_end - state.period_start).total_seconds()
        metrics.budget_period_seconds.labels(*labels).set(seconds)
        metrics.budget_spend_usd.labels(*labels).set(float(state.spend_usd))
        metrics.budget_spend_tokens.labels(*labels).set(state.spend_tokens)
        if budget.limit_usd is not None:
            metrics.budget_limit_usd.labels(*labels).set(float(budget.limit_usd))
        if budget.limit_tokens is not None:
            metrics.budget_limit_tokens.labels(*labels).set(budget.limit_tokens)
        return labels

    def _gauges(self) -> tuple[Any, ...]:
        metrics = self._metrics
        return (
            metrics.budget_period_seconds, metrics.budget_spend_usd, metrics.budget_limit_usd,
            metrics.budget_spend_tokens, metrics.budget_limit_tokens,
        )  # fmt: skip

    async def run(self, interval_seconds: float) -> None:
        """Evaluate every `interval_seconds` until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:  # top of a long-lived loop: log once, count, carry on
                self._metrics.budget_evaluation_errors.inc()
                log.exception("budget evaluation failed")
            await asyncio.sleep(interval_seconds)


@asynccontextmanager
async def run_evaluator(
    pool: AsyncConnectionPool[Any], client: redis.Redis, config: ApiConfig, metrics: ApiMetrics
) -> AsyncIterator[BudgetEvaluator]:
    """The evaluator running in the background for the duration of the block."""
    timeout = aiohttp.ClientTimeout(total=config.budget_webhook_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        evaluator = BudgetEvaluator(pool, Webhooks(client, session, metrics), metrics)
        task = asyncio.create_task(
            evaluator.run(config.budget_evaluation_seconds), name="budget-evaluator"
        )
        try:
            yield evaluator
        finally:
            await cancel_and_wait(task)
