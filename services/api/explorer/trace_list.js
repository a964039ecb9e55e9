// The trace list: the API's filters as a form whose values live in the URL, the matching traces
// in a virtual list (newest first by default), more pages on demand, and live refresh.

import { api } from "./api.js";
import { h } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatInstant, shortId } from "./format.js";
import { RANGES, resolveRange } from "./range.js";
import { navigate, routeHash } from "./router.js";
import { VirtualList } from "./virtual_list.js";

const PAGE_SIZE = 100;
const LIVE_INTERVAL_MS = 5000;
// Text filters: URL parameter, label, placeholder.
const TEXT_FILTERS = [
  ["model", "model", "gpt-4o"],
  ["provider", "provider", "openai"],
  ["service", "service", "support-bot"],
  ["environment", "environment", "production"],
  ["session", "session", "session id"],
  ["user", "user", "user id"],
  ["name", "name contains", "agent"],
  ["text", "message text", "refund"],
  ["tags", "tags (all of, comma-separated)", "beta,vip"],
];
const NUMBER_FILTERS = [
  ["min_duration_ms", "min duration ms"],
  ["min_cost_usd", "min cost USD"],
  ["min_tokens", "min tokens"],
];
const PASSED_THROUGH = ["provider", "service", "environment", "session", "user", "name", "text",
  "model", "has_error", "min_duration_ms", "max_duration_ms", "min_cost_usd", "max_cost_usd",
  "min_tokens", "max_tokens", "sort", "order", "tags_any"];
let lastList = "#/traces";

/** The hash of the trace list as last shown (a trace's "back" link returns to it). */
export function lastListHash() {
  return lastList;
}

/** The API's parameters of a trace-list route. */
export function listParams(params) {
  const query = { limit: PAGE_SIZE, ...resolveRange(params) };
  for (const name of PASSED_THROUGH) if (params[name]) query[name] = params[name];
  if (params.tags) {
    query.tags = [].concat(params.tags).flatMap((value) => value.split(","))
      .map((tag) => tag.trim()).filter(Boolean);
  }
  return query;
}

/** The trace list view. */
export function traceListView(route, context) {
  lastList = routeHash("traces", null, route.params);
  const status = h("p", { className: "status", attrs: { role: "status" } }, "Loading traces…");
  const list = new VirtualList({
    rowHeight: 34,
    className: "trace-rows",
    label: "Traces",
    renderRow: traceRow,
    onActivate: (trace) => navigate(routeHash("traces", trace.trace_id)),
  });
  const more = h("button", { type: "button", className: "more", hidden: true }, "Load more");
  const element = h(
    "div",
    { className: "view list-view", dataset: { state: "loading" } },
    filterForm(route.params),
    h("div", { className: "list-tools" }, status, liveToggle(route.params)),
    h("div", { className: "table trace-table" }, columnHeads(route.params), list.element),
    more,
  );
  const controller = new AbortController();
  let cursor = null;
  let traces = [];
  let timer = null;

  async function load({ append = false } = {}) {
    const query = listParams(route.params);
    if (append && cursor) query.cursor = cursor;
    let page;
    try {
      page = await api.listTraces(query, { signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.isKeyProblem) return context.onKeyProblem(error);
      element.dataset.state = "error";
      status.replaceChildren(h("span", { className: "error-text", attrs: { role: "alert" } },
        `The API refused this list: ${error.message}`));
      return;
    }
    traces = append ? traces.concat(page.data) : page.data;
    cursor = page.next_cursor;
    list.setItems(traces, (trace) => trace.trace_id);
    more.hidden = !cursor;
    const stamp = route.params.live ? ` · refreshed ${new Date().toLocaleTimeString()}` : "";
    status.textContent = `${traces.length}${cursor ? "+" : ""} traces${stamp}`;
    element.dataset.state = "ready";
    element.dataset.count = String(traces.length);
  }

  more.addEventListener("click", () => load({ append: true }));
  if (route.params.live) {
    timer = setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, LIVE_INTERVAL_MS);
  }
  load().then(() => list.element.focus({ preventScroll: true }));
  fillModelChoices(element, controller.signal);
  return {
    element,
    matches: () => false,
    update: () => {},
    destroy: () => {
      controller.abort();
      clearInterval(timer);
      list.destroy();
    },
  };
}

function filterForm(params) {
  const range = h("select", { name: "range" }, RANGES.map(([value, label]) =>
    h("option", { value, selected: (params.range || "24h") === value }, label)));
  const errors = h("select", { name: "has_error" },
    h("option", { value: "", selected: !params.has_error }, "any"),
    h("option", { value: "true", selected: params.has_error === "true" }, "with errors"),
    h("option", { value: "false", selected: params.has_error === "false" }, "without errors"));
  const fields = [
    field("time range", range),
    ...TEXT_FILTERS.map(([name, label, placeholder]) => field(label, h("input", {
      name, type: "search", placeholder, value: [].concat(params[name] || "").join(","),
      attrs: name === "model" ? { list: "model-choices" } : {},
    }))),
    ...NUMBER_FILTERS.map(([name, label]) => field(label, h("input", {
      name, type: "number", min: "0", step: "any", value: params[name] || "",
    }))),
    field("errors", errors),
  ];
  const form = h("form", { className: "filters", attrs: { "aria-label": "Filters" } },
    fields, h("datalist", { id: "model-choices" }),
    h("div", { className: "filter-actions" },
      h("button", { type: "submit" }, "Apply"),
      h("a", { href: "#/traces", className: "button-link" }, "Clear")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = { sort: params.sort, order: params.order, live: params.live };
    for (const [name, value] of new FormData(form)) if (String(value).trim()) next[name] = String(value).trim();
    navigate(routeHash("traces", null, next));
  });
  return form;
}

function field(label, control) {
  return h("label", { className: "field" }, h("span", {}, label), control);
}

function liveToggle(params) {
  const box = h("input", { type: "checkbox", checked: Boolean(params.live) });
  box.addEventListener("change", () => {
    navigate(routeHash("traces", null, { ...params, live: box.checked ? "1" : "" }));
  });
  return h("label", { className: "live", title: `Refresh every ${LIVE_INTERVAL_MS / 1000} s` },
    box, " live refresh");
}

const COLUMNS = [
  ["time", "started", "time"],
  ["name", "name"],
  ["service", "service"],
  ["duration", "duration", "duration"],
  ["spans", "spans"],
  ["calls", "LLM calls"],
  ["tokens", "tokens in / out"],
  ["cost", "cost", "cost"],
  ["errors", "errors"],
  ["session", "session"],
];

function columnHeads(params) {
  const sort = params.sort || "time";
  const order = params.order || "desc";
  return h("div", { className: "table-head trace-grid" }, COLUMNS.map(([key, label, sortKey]) => {
    if (!sortKey) return h("span", { className: `col-${key}` }, label);
    const isActive = sort === sortKey;
    const nextOrder = isActive && order === "desc" ? "asc" : "desc";
    return h("a", {
      className: `col-${key} sort${isActive ? " is-active" : ""}`,
      href: routeHash("traces", null, { ...params, sort: sortKey, order: nextOrder }),
      title: `Sort by ${label}`,
    }, label, isActive ? (order === "desc" ? " ↓" : " ↑") : "");
  }));
}

function traceRow(trace) {
  return h(
    "div",
    { className: `trace-grid${trace.error_count ? " has-error" : ""}`,
      dataset: { traceId: trace.trace_id } },
    h("span", { className: "col-time" }, formatInstant(trace.start_time)),
    h("a", { className: "col-name", href: routeHash("traces", trace.trace_id), title: trace.name || "" },
      trace.name || shortId(trace.trace_id)),
    h("span", { className: "col-service" }, trace.service_name || "—"),
    h("span", { className: "col-duration num" }, formatDuration(trace.duration_ms)),
    h("span", { className: "col-spans num" }, formatCount(trace.span_count)),
    h("span", { className: "col-calls num" }, formatCount(trace.llm_call_count)),
    h("span", { className: "col-tokens num" },
      `${formatCount(trace.input_tokens)} / ${formatCount(trace.output_tokens)}`),
    h("span", { className: "col-cost num" }, formatCost(trace.cost_usd)),
    h("span", { className: "col-errors num" }, trace.error_count ? String(trace.error_count) : ""),
    trace.session_id
      ? h("a", { className: "col-session", href: routeHash("sessions", trace.session_id) }, trace.session_id)
      : h("span", { className: "col-session" }, "—"),
  );
}

async function fillModelChoices(element, signal) {
  try {
    const models = await api.listModels({ ...resolveRange({ range: "30d" }), limit: 200 }, { signal });
    const datalist = element.querySelector("#model-choices");
    for (const row of models.data) if (row.model) datalist.append(h("option", { value: row.model }));
  } catch {
    // The choices are a convenience: the list works without them.
  }
}
