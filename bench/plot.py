"""Pictures of a side-by-side run: spans accepted and stored over time per system, and the
export latency percentiles each system's exporters saw. SVG, for docs/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.load import percentile
from bench.measure import Measurement

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red")
QUANTILES = (0.5, 0.9, 0.95, 0.99)


def plot_throughput(results: Sequence[Measurement], path: Path) -> None:
    """Cumulative spans accepted (dashed) and stored (solid) against seconds since the first
    send, one colour per system; the slope is the rate."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for result, color in zip(results, COLORS, strict=False):
        seconds = [s.seconds for s in result.samples]
        axes.plot(seconds, [s.accepted for s in result.samples], "--", color=color,
                  label=f"{result.system}: accepted")  # fmt: skip
        axes.plot(seconds, [s.stored for s in result.samples], "-", color=color,
                  label=f"{result.system}: stored")  # fmt: skip
    axes.set_xlabel("seconds since the first export")
    axes.set_ylabel("spans")
    axes.set_title("Spans accepted and stored over time (same load, one run)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_export_latency(results: Sequence[Measurement], path: Path) -> None:
    """Export latency percentiles per system, as grouped bars."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(results))
    for index, (result, color) in enumerate(zip(results, COLORS, strict=False)):
        values = [percentile(result.stats.latencies_ms, q) for q in QUANTILES]
        positions = [q_index + index * width for q_index in range(len(QUANTILES))]
        bars = axes.bar(positions, values, width, color=color, label=result.system)
        axes.bar_label(bars, fmt="%.0f", fontsize=8)
    axes.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(QUANTILES))])
    axes.set_xticklabels([f"p{round(q * 100)}" for q in QUANTILES])
    axes.set_ylabel("export request latency, ms")
    axes.set_title("Export latency seen by the exporters (requests of up to 512 spans)")
    axes.grid(alpha=0.3, axis="y")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_query_latency(rows: Sequence[tuple[str, float, float, float, float]], path: Path,
                       title: str) -> None:  # fmt: skip
    """Per API call (name, cold p50, cold p95, cached p50, cached p95 in ms): horizontal bars,
    p50 solid and p95 as a lighter extension, cold above cached (log scale: ms to seconds)."""
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.5))
    positions = range(len(rows))
    for offset, (label, p50_at, p95_at, color) in enumerate(
        (("cold (API cache flushed)", 1, 2, "tab:blue"), ("cached", 3, 4, "tab:green"))
    ):
        y = [i + offset * 0.4 for i in positions]
        axes.barh(y, [row[p95_at] for row in rows], 0.38, color=color, alpha=0.35)
        axes.barh(y, [row[p50_at] for row in rows], 0.38, color=color, label=f"{label} p50")
    axes.set_yticks([i + 0.2 for i in positions])
    axes.set_yticklabels([row[0] for row in rows])
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("ms (log scale); lighter bar: p95")
    axes.set_title(title)
    axes.grid(alpha=0.3, axis="x")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
