// Usage over time: cost, tokens or requests per bucket by model, as a stacked bar chart, with
// each model's totals below. Reads GET /v1/metrics/usage grouped by model.

import { api } from "./api.js";
import { legend, stackedBarChart } from "./chart.js";
import { h, replaceChildren } from "./dom.js";
import { formatCost, formatCount } from "./format.js";
import { navigate, routeHash } from "./router.js";

const RANGES = [["24h", "last 24 hours", 86400e3, "1h"], ["7d", "last 7 days", 7 * 86400e3, "1h"],
  ["30d", "last 30 days", 30 * 86400e3, "1d"]];
const METRICS = {
  cost: ["cost (USD)", (row) => Number(row.cost_usd || 0), (value) => formatCost(String(value))],
  tokens: ["tokens (input + output)", (row) => row.input_tokens + row.output_tokens, formatCount],
  requests: ["LLM calls", (row) => row.requests, formatCount],
};
const MAX_SERIES = 9;

/** The usage view. */
export function usageView(route, context) {
  const params = route.params;
  const rangeName = RANGES.some(([key]) => key === params.range) ? params.range : "24h";
  const metricName = params.metric in METRICS ? params.metric : "cost";
  const [, , spanMs, interval] = RANGES.find(([key]) => key === rangeName);
  const body = h("div", { className: "usage-body" }, h("p", { className: "muted" }, "Loading usage…"));
  const element = h("div", { className: "view usage-view", dataset: { state: "loading" } },
    h("h2", {}, "Usage"), controls(rangeName, metricName), body);
  const controller = new AbortController();
  const now = Date.now();
  const query = { from: new Date(now - spanMs).toISOString(), to: new Date(now).toISOString(),
    interval, group_by: "model" };
  api.getUsage(query, { signal: controller.signal }).then((usage) => {
    replaceChildren(body, usageContent(usage, metricName, interval, body.clientWidth - 24));
    element.dataset.state = "ready";
  }, (error) => {
    if (error.name === "AbortError") return;
    if (error.isKeyProblem) return context.onKeyProblem(error);
    element.dataset.state = "error";
    body.replaceChildren(h("div", { className: "error-box", attrs: { role: "alert" } },
      `Could not load usage: ${error.message}`));
  });
  return { element, matches: () => false, update: () => {}, destroy: () => controller.abort() };
}

function controls(rangeName, metricName) {
  const pick = (name, options, chosen) => {
    const select = h("select", { name }, options.map(([value, label]) =>
      h("option", { value, selected: value === chosen }, label)));
    select.addEventListener("change", () => {
      const form = select.form;
      navigate(routeHash("usage", null, { range: form.range.value, metric: form.metric.value }));
    });
    return select;
  };
  return h("form", { className: "filters" },
    h("label", { className: "field" }, h("span", {}, "time range"),
      pick("range", RANGES.map(([key, label]) => [key, label]), rangeName)),
    h("label", { className: "field" }, h("span", {}, "show"),
      pick("metric", Object.entries(METRICS).map(([key, [label]]) => [key, label]), metricName)));
}

/** Buckets, series by model (the largest first, the rest summed as "other") and totals. */
export function usageSeries(usage, metricName, interval) {
  const [, measure] = METRICS[metricName];
  const stepMs = { "1m": 60e3, "1h": 3600e3, "1d": 86400e3 }[interval];
  const start = Date.parse(usage.from);
  const count = Math.max(1, Math.round((Date.parse(usage.to) - start) / stepMs));
  const buckets = Array.from({ length: count }, (_, i) => new Date(start + i * stepMs));
  const byModel = new Map();
  for (const row of usage.data) {
    const model = row.group.model || "(no model)";
    if (!byModel.has(model)) byModel.set(model, { name: model, values: new Array(count).fill(0), rows: [] });
    const entry = byModel.get(model);
    const index = Math.floor((Date.parse(row.bucket_start) - start) / stepMs);
    if (index >= 0 && index < count) entry.values[index] += measure(row);
    entry.rows.push(row);
  }
  const ranked = [...byModel.values()].sort((a, b) => sum(b.values) - sum(a.values));
  const series = ranked.slice(0, MAX_SERIES);
  if (ranked.length > MAX_SERIES) {
    const other = { name: "other", values: new Array(count).fill(0), rows: [] };
    for (const entry of ranked.slice(MAX_SERIES)) {
      entry.values.forEach((value, i) => { other.values[i] += value; });
      other.rows.push(...entry.rows);
    }
    series.push(other);
  }
  return { buckets, series, models: ranked };
}

function usageContent(usage, metricName, interval, width) {
  const [label, , formatValue] = METRICS[metricName];
  const { buckets, series, models } = usageSeries(usage, metricName, interval);
  if (!models.length) return [h("p", { className: "muted empty" }, "No LLM calls in this range.")];
  const formatBucket = (date) => interval === "1d"
    ? `${date.getMonth() + 1}/${date.getDate()}`
    : `${String(date.getHours()).padStart(2, "0")}:00`;
  return [
    h("div", { className: "chart-box" },
      stackedBarChart({ buckets, series, formatValue, formatBucket, width,
        label: `${label} by model` }),
      legend(series.map((s) => s.name))),
    h("p", { className: "muted" }, `Source: ${usage.source}, ${interval} buckets.`),
    totalsTable(models),
  ];
}

function totalsTable(models) {
  return h("table", { className: "usage-totals" },
    h("thead", {}, h("tr", {}, ["model", "LLM calls", "errors", "input tokens", "output tokens",
      "cost"].map((name) => h("th", {}, name)))),
    h("tbody", {}, models.map((model) => {
      const total = (name) => model.rows.reduce((acc, row) => acc + (row[name] || 0), 0);
      const cost = model.rows.reduce((acc, row) => acc + Number(row.cost_usd || 0), 0);
      const unpriced = total("unpriced_requests");
      return h("tr", { dataset: { model: model.name } }, h("td", {}, model.name),
        h("td", { className: "num" }, formatCount(total("requests"))),
        h("td", { className: "num" }, formatCount(total("errors"))),
        h("td", { className: "num" }, formatCount(total("input_tokens"))),
        h("td", { className: "num" }, formatCount(total("output_tokens"))),
        h("td", { className: "num" }, formatCost(String(cost)),
          unpriced ? h("span", { className: "muted" }, ` (${unpriced} unpriced)`) : null));
    })));
}

function sum(values) {
  return values.reduce((acc, value) => acc + value, 0);
}
