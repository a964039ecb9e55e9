"""The observed-usage feed: counted LLM calls charge the usage-limit buckets of their entity.

A stage after the pipeline (it does I/O, so it is no processor): for a project with limits,
each counted call costs 1 `rpm` and its input + output tokens in `tpm`, charged to its user (or
the project when it names none) on its model and on `*`, cascading to the project as the API
does. Limits so hold for applications that never call acquire. A span naming a lease
(`llmobs.limit.lease_id`) was paid for by that lease and is skipped. One Redis call per batch,
and none for a project without limits (the rules are cached). Failures never fail ingest: the
batch is already handed off; they are counted and logged once per outage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as redis
from psycopg_pool import AsyncConnectionPool

from services.collector.config import CollectorConfig
from services.collector.metrics import CollectorMetrics
from shared.errors import UnavailableError
from shared.limit_buckets import LimitBuckets
from shared.limit_store import LimitRules
from shared.span import Span
from shared.usage_limits import (
    ANY,
    LEASE_ID_ATTRIBUTE,
    MILLI,
    BucketSpec,
    Entity,
    LimitRule,
    applicable,
    parse_defaults,
)

log = logging.getLogger(__name__)


class UsageFeed:
    """Charges a batch's observed usage to the buckets of the limits that apply."""

    def __init__(
        self, rules: LimitRules, buckets: LimitBuckets, is_cascading: bool,
        metrics: CollectorMetrics,
    ) -> None:  # fmt: skip
        self._rules = rules
        self._buckets = buckets
        self._is_cascading = is_cascading
        self._metrics = metrics
        self._is_failing = False

    async def record(self, project_id: str, spans: Sequence[Span]) -> None:
        """Charge the batch (never raises)."""
        try:
            rules = await self._rules.rules_of(project_id)
            if not any(rule.limit > 0 for rule in rules):
                return
            specs, costs = self._charges(project_id, rules, spans)
            if specs:
                await self._buckets.charge(specs, costs)
        except UnavailableError as exc:
            self._metrics.limit_usage_errors.inc()
            if not self._is_failing:
                log.warning("usage not charged to limits", extra={"error": str(exc)})
            self._is_failing = True
            return
        self._is_failing = False

    def _charges(
        self, project_id: str, rules: Sequence[LimitRule], spans: Sequence[Span]
    ) -> tuple[list[BucketSpec], list[int]]:
        totals: dict[str, tuple[BucketSpec, int]] = {}
        resolved: dict[tuple[Entity, str], list[BucketSpec]] = {}
        charged = leased = 0
        for span in spans:
            llm = span.llm
            if llm is None or not llm.is_counted:
                continue
            if LEASE_ID_ATTRIBUTE in span.attributes:
                leased += 1
                continue
            charged += 1
            user = llm.user_id or (span.identity.user_id if span.identity else None)
            entity = Entity("user", user) if user else Entity("project")
            model = llm.request_model or llm.response_model or ANY
            if (entity, model) not in resolved:
                resolved[entity, model] = applicable(
                    project_id, rules, entity, model, self._is_cascading
                )
            tokens = (llm.usage.input_tokens or 0) + (llm.usage.output_tokens or 0)
            cost = {"rpm": MILLI, "tpm": tokens * MILLI}
            for spec in resolved[entity, model]:
                if cost.get(spec.unit):
                    held = totals.get(spec.key)
                    totals[spec.key] = (spec, (held[1] if held else 0) + cost[spec.unit])
        self._metrics.limit_usage_spans.labels("charged").inc(charged)
        self._metrics.limit_usage_spans.labels("leased").inc(leased)
        return [spec for spec, _ in totals.values()], [cost for _, cost in totals.values()]


def build_usage_feed(
    client: redis.Redis,
    pool: AsyncConnectionPool[Any],
    config: CollectorConfig,
    metrics: CollectorMetrics,
) -> UsageFeed:
    """The feed of the configured defaults, with overrides read through `pool` and cached."""
    rules = LimitRules(
        pool, parse_defaults(config.limits_defaults, config.limits_burst_percent),
        config.limits_burst_percent, config.project_cache_ttl_seconds,
        config.project_cache_max_stale_seconds,
    )  # fmt: skip
    return UsageFeed(rules, LimitBuckets(client), config.is_limits_cascading, metrics)
