// A stacked bar chart drawn by hand in SVG: one bar per time bucket, one colour per series.

import { h, svg } from "./dom.js";

const PALETTE = ["#3b6fd8", "#e07b39", "#3a9d5d", "#c24b6b", "#8a63c9", "#1c9aa6", "#b59a2a",
  "#6d7a8c", "#d16ac2", "#5c8f2e"];
const DEFAULT_WIDTH = 960;
const HEIGHT = 320;
const MARGIN = { top: 12, right: 12, bottom: 36, left: 72 };

/** The colour of series number `index`. */
export function seriesColour(index) {
  return PALETTE[index % PALETTE.length];
}

/** An SVG chart of `series` ([{name, values}], values aligned with `buckets`, Date objects);
 * `formatValue` labels the y axis and the tooltips; `width` is the box it will fill, in px. */
export function stackedBarChart({ buckets, series, formatValue, formatBucket, label, width }) {
  const boxWidth = Math.max(480, Math.round(width || DEFAULT_WIDTH));
  const plotWidth = boxWidth - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const totals = buckets.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const top = niceCeiling(Math.max(0, ...totals));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const chart = svg("svg", { viewBox: `0 0 ${boxWidth} ${HEIGHT}`, class: "chart", role: "img",
    "aria-label": label });
  for (let tick = 0; tick <= 4; tick += 1) {
    const value = (top * tick) / 4;
    chart.append(
      svg("line", { x1: MARGIN.left, x2: boxWidth - MARGIN.right, y1: y(value), y2: y(value), class: "grid" }),
      svg("text", { x: MARGIN.left - 6, y: y(value) + 4, "text-anchor": "end", class: "tick" },
        formatValue(value)),
    );
  }
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((bucket, i) => {
    const x = MARGIN.left + i * slot + (slot - barWidth) / 2;
    let base = 0;
    series.forEach((s, index) => {
      const value = s.values[i] || 0;
      if (value <= 0) return;
      chart.append(svg("rect", {
        x, width: barWidth, y: y(base + value), height: Math.max(0.5, y(base) - y(base + value)),
        fill: seriesColour(index), class: "bar", "data-series": s.name,
      }, svg("title", {}, `${s.name} · ${formatBucket(bucket)}: ${formatValue(value)}`)));
      base += value;
    });
    if (i % labelEvery === 0) {
      chart.append(svg("text", { x: x + barWidth / 2, y: HEIGHT - MARGIN.bottom + 16,
        "text-anchor": "middle", class: "tick" }, formatBucket(bucket)));
    }
  });
  chart.append(svg("line", { x1: MARGIN.left, x2: boxWidth - MARGIN.right, y1: y(0), y2: y(0),
    class: "axis" }));
  return chart;
}

/** The legend of `names`, in their series colours. */
export function legend(names) {
  return h("ul", { className: "legend" }, names.map((name, index) => h("li", {},
    h("span", { className: "swatch", style: { background: seriesColour(index) } }), name)));
}

/** A round number at or above `value` (1, 2, 2.5, 5 times a power of ten). */
export function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
