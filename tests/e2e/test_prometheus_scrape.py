"""A real Prometheus scrapes the running stack: the three jobs are up, the project's rules load,
and the series the dashboards and alerts are built on arrive with LLM labels."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.prometheus import api_get, run_prometheus, wait_for_series
from tests.e2e.services import Stack
from tests.e2e.telemetry import send_varied_telemetry


def values(result: list[dict[str, object]]) -> list[float]:
    return [float(item["value"][1]) for item in result]  # type: ignore[index]


def test_prometheus_scrapes_the_stack_and_finds_the_llm_series(
    stack: Stack, prometheus_bindir: Path, tmp_path: Path
) -> None:
    with run_prometheus(prometheus_bindir, stack.metrics_targets, tmp_path / "prometheus") as url:
        send_varied_telemetry(stack)
        wait_for_series(url, 'count(up{job=~"collector|storage|api"} == 1) == 3')
        up = api_get(url, "/api/v1/query", query="up")["result"]
        assert {item["metric"]["job"] for item in up} == {"collector", "storage", "api"}

        received = wait_for_series(
            url, 'sum(collector_spans_received_total{signal="traces"}) > 100'
        )
        assert values(received)[0] > 100
        by_provider = wait_for_series(url, "sum by (provider) (llm_requests_total)")
        providers = {item["metric"]["provider"] for item in by_provider}
        assert {"openai", "anthropic", "gcp.gemini", "vllm"} <= providers
        tokens = wait_for_series(url, "sum by (type) (llm_tokens_total)")
        assert {"input", "output", "cache_read", "reasoning"} <= {
            item["metric"]["type"] for item in tokens
        }
        assert min(values(tokens)) > 0
        wait_for_series(url, 'storage_rows_written_total{table="spans"} > 100')
        wait_for_series(url, 'api_requests_total{route="/v1/traces", status="200"}')
        wait_for_series(url, "sum(llm_cost_usd_total) > 0")
        wait_for_series(url, "sum(llm_errors_total) > 0")

        groups = api_get(url, "/api/v1/rules")["groups"]
        assert {group["name"] for group in groups} == {
            "llmobs-recording", "llmobs-pipeline", "llmobs-llm", "llmobs-budgets"
        }  # fmt: skip
        assert all(rule["health"] != "err" for group in groups for rule in group["rules"])
