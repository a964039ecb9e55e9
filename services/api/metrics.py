"""Prometheus metrics of the API (`api_*`), on a registry of its own."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector


class ApiMetrics:
    """Requests and latency by route (templates, never raw paths), cache, rate limits, auth,
    and the budgets' gauges (`llm_budget_*`, one series per stored budget)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "api_requests_total", "API requests by route and status.", ["route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "api_request_duration_seconds", "API request latency by route.", ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )  # fmt: skip
        self.cache_requests = Counter(
            "api_cache_requests_total", "Cached endpoints' answers by result (hit, miss).",
            ["result"], registry=self.registry,
        )  # fmt: skip
        self.cache_errors = Counter(
            "api_cache_errors_total", "Redis failures of the cache, answered from the database.",
            registry=self.registry,
        )  # fmt: skip
        self.rate_limited = Counter(
            "api_rate_limited_total", "Requests refused 429 by the per-key rate limit.",
            registry=self.registry,
        )  # fmt: skip
        self.rate_limit_errors = Counter(
            "api_rate_limit_errors_total", "Redis failures of the rate limiter (request admitted).",
            registry=self.registry,
        )  # fmt: skip
        budget = ["project", "budget_id", "scope", "period"]
        self.budget_spend_usd = Gauge(
            "llm_budget_spend_usd", "LLM spend of a budget in its current period (USD).", budget,
            registry=self.registry,
        )  # fmt: skip
        self.budget_limit_usd = Gauge(
            "llm_budget_limit_usd", "A budget's USD limit per period.", budget,
            registry=self.registry,
        )  # fmt: skip
        self.budget_spend_tokens = Gauge(
            "llm_budget_spend_tokens", "Tokens of a budget in its current period.", budget,
            registry=self.registry,
        )  # fmt: skip
        self.budget_limit_tokens = Gauge(
            "llm_budget_limit_tokens", "A budget's token limit per period.", budget,
            registry=self.registry,
        )  # fmt: skip
        self.budget_period_seconds = Gauge(
            "llm_budget_period_seconds", "Length of a budget's current period.", budget,
            registry=self.registry,
        )  # fmt: skip
        self.budget_webhooks = Counter(
            "api_budget_webhooks_total", "Budget threshold webhooks by outcome (sent, failed).",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.budget_evaluation_errors = Counter(
            "api_budget_evaluation_errors_total", "Budget evaluation rounds that failed.",
            registry=self.registry,
        )  # fmt: skip
        self.auth_failures = Counter(
            "api_auth_failures_total", "Requests refused 401 or 403, by status.", ["status"],
            registry=self.registry,
        )  # fmt: skip

    def middleware(self) -> Middleware:
        """An aiohttp middleware recording every request."""

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                resource = request.match_info.route.resource
                route = resource.canonical if resource is not None else "unmatched"
                self.requests.labels(route, str(status)).inc()
                self.latency.labels(route).observe(time.perf_counter() - started)

        return record
