"""Budget threshold webhooks: told once per budget, period and threshold, whatever the number
of API processes (a Redis SET NX claims each threshold before the POST)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import redis.asyncio as redis
from redis.exceptions import RedisError

from services.api.budgets.spend import THRESHOLDS_PERCENT, BudgetState, usd_text
from services.api.metrics import ApiMetrics

log = logging.getLogger(__name__)


def fired_key(state: BudgetState, threshold: int) -> str:
    """The claim of one threshold of one budget in one period (keys hold the project)."""
    budget = state.budget
    return (
        f"llmobs:budgets:{{{budget.project_id}}}:fired:{budget.budget_id}:"
        f"{int(state.period_start.timestamp())}:{threshold}"
    )


def payload(state: BudgetState, threshold: int) -> dict[str, Any]:
    """What the webhook receives."""
    budget = state.budget
    return {
        "event": "budget.threshold_crossed", "threshold_percent": threshold,
        "budget_id": budget.budget_id, "project_id": budget.project_id, "scope": budget.scope,
        "scope_id": budget.scope_id, "period": budget.period,
        "period_start": state.period_start.isoformat(), "period_end": state.period_end.isoformat(),
        "used_percent": float(state.used_percent), "spend_usd": usd_text(state.spend_usd),
        "limit_usd": None if budget.limit_usd is None else usd_text(budget.limit_usd),
        "spend_tokens": state.spend_tokens, "limit_tokens": budget.limit_tokens,
        "forecast_usd": usd_text(state.forecast_usd),
    }  # fmt: skip


class Webhooks:
    """Posts the highest threshold newly crossed; lower ones crossed with it are claimed too."""

    def __init__(
        self, client: redis.Redis, session: aiohttp.ClientSession, metrics: ApiMetrics
    ) -> None:
        self._client = client
        self._session = session
        self._metrics = metrics

    async def notify(self, state: BudgetState) -> int | None:
        """Post the threshold this process claimed, if any; the threshold posted, or None."""
        url = state.budget.webhook_url
        crossed = [t for t in THRESHOLDS_PERCENT if state.used_percent >= t]
        if not url or not crossed:
            return None
        ttl = int((state.period_end - state.period_start).total_seconds()) + 86400
        try:
            claimed = [
                t for t in reversed(crossed)
                if await self._client.set(fired_key(state, t), "1", nx=True, ex=ttl)
            ]  # fmt: skip
        except (RedisError, OSError) as exc:
            log.warning("budget webhook claim failed", extra={"error": type(exc).__name__})
            return None
        if not claimed or claimed[0] != crossed[-1]:
            return None  # another process claimed the highest threshold and posts it
        threshold = claimed[0]
        try:
            async with self._session.post(url, json=payload(state, threshold)) as response:
                response.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._metrics.budget_webhooks.labels("failed").inc()
            log.warning("budget webhook failed", extra={
                "budget_id": state.budget.budget_id, "error": type(exc).__name__})  # fmt: skip
            # Unclaimed, so that the next round tries again.
            await self._client.delete(fired_key(state, threshold))
            return None
        self._metrics.budget_webhooks.labels("sent").inc()
        return threshold
