// One trace: its totals, the waterfall of its spans and the panel of the selected span. The
// selected span is in the URL (`?span=`), so a link opens the trace on that span.

import { api } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatInstant } from "./format.js";
import { navigate, routeHash } from "./router.js";
import { spanPanel } from "./span_panel.js";
import { lastListHash } from "./trace_list.js";
import { Waterfall } from "./waterfall.js";

/** The view of trace `route.id`. */
export function traceView(route, context) {
  const traceId = route.id;
  const header = h("div", { className: "view-head" }, h("p", { className: "muted" }, "Loading trace…"));
  const panel = h("div", { className: "trace-panel" });
  let selectedSpanId = null;
  const waterfall = new Waterfall({
    onSelect: (span) => {
      showSpan(span);
      navigate(routeHash("traces", traceId, { span: span.span_id }), { replace: true });
    },
  });
  const element = h(
    "div",
    { className: "view trace-view", dataset: { state: "loading" } },
    header,
    h("div", { className: "trace-body" }, h("div", { className: "trace-waterfall" }, waterfall.element), panel),
  );
  let spans = new Map();
  const controller = new AbortController();

  function showSpan(span) {
    selectedSpanId = span.span_id;
    const started = performance.now();
    panel.replaceChildren(spanPanel(span));
    panel.scrollTop = 0;
    performance.measure("explorer:span-panel", { start: started, end: performance.now() });
  }

  function selectFromRoute(spanId) {
    const chosen = spans.get(spanId) || firstLlmSpan(spans) || spans.values().next().value;
    if (!chosen) return;
    waterfall.selectSpan(chosen.span_id);
    showSpan(chosen);
  }

  async function load() {
    const fetchStarted = performance.now();
    let trace;
    try {
      trace = await api.getTrace(traceId, { signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.isKeyProblem) return context.onKeyProblem(error);
      element.dataset.state = "error";
      header.replaceChildren(h("div", { className: "error-box", attrs: { role: "alert" } },
        `Could not load trace ${traceId}: ${error.message}`));
      return;
    }
    const renderStarted = performance.now();
    performance.measure("explorer:trace-fetch", { start: fetchStarted, end: renderStarted });
    spans = indexSpans(trace.spans);
    replaceChildren(header, traceHeader(trace, spans));
    waterfall.setTrace(trace.spans);
    selectFromRoute(route.params.span);
    element.dataset.state = "ready";
    element.dataset.spanCount = String(trace.span_count);
    performance.measure("explorer:trace-render", { start: renderStarted, end: performance.now() });
    waterfall.focus();
  }

  load();
  return {
    element,
    matches: (next) => next.view === "traces" && next.id === traceId,
    update: (next) => {
      // The span chosen in the waterfall is shown already; a link or Back/Forward is not.
      if (spans.size && next.params.span && next.params.span !== selectedSpanId) {
        selectFromRoute(next.params.span);
      }
    },
    destroy: () => {
      controller.abort();
      waterfall.destroy();
    },
  };
}

function indexSpans(roots) {
  const byId = new Map();
  const stack = [...roots];
  while (stack.length) {
    const span = stack.pop();
    byId.set(span.span_id, span);
    stack.push(...(span.children || []));
  }
  return byId;
}

function firstLlmSpan(spans) {
  let first = null;
  for (const span of spans.values()) {
    if (span.llm && span.llm.span_type === "llm") {
      if (!first || BigInt(span.start_time_unix_nano) < BigInt(first.start_time_unix_nano)) {
        first = span;
      }
    }
  }
  return first;
}

/** Totals of a trace from its spans: counted LLM calls only, as the API's lists count them. */
export function traceTotals(spans) {
  const totals = { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, errors: 0,
    isPriced: true, sessionId: null, userId: null, start: null, end: null, root: null };
  for (const span of spans.values()) {
    if (span.status && span.status.code === "ERROR") totals.errors += 1;
    const start = BigInt(span.start_time_unix_nano);
    const end = BigInt(span.end_time_unix_nano);
    if (totals.start === null || start < totals.start) totals.start = start;
    if (totals.end === null || end > totals.end) totals.end = end;
    if (!span.parent_span_id || !spans.has(span.parent_span_id)) totals.root ??= span;
    const attributes = span.attributes || {};
    totals.sessionId ??= (span.llm && span.llm.session_id) || attributes["session.id"] || null;
    totals.userId ??= (span.llm && span.llm.user_id) || attributes["user.id"] || null;
    if (!span.llm || !span.llm.is_counted) continue;
    totals.llmCalls += 1;
    totals.inputTokens += span.llm.usage.input_tokens || 0;
    totals.outputTokens += span.llm.usage.output_tokens || 0;
    if (span.llm.cost.total_usd === null) totals.isPriced = false;
    else totals.costUsd += Number(span.llm.cost.total_usd);
  }
  return totals;
}

function traceHeader(trace, spans) {
  const totals = traceTotals(spans);
  const durationMs = totals.start === null ? 0 : Number(totals.end - totals.start) / 1e6;
  const root = totals.root;
  return [
    h("nav", { className: "crumbs" }, h("a", { href: lastListHash() }, "← Traces"),
      totals.sessionId ? [" · ", h("a", { className: "session-link",
        href: routeHash("sessions", totals.sessionId) }, `Session ${totals.sessionId}`)] : null),
    h("h2", {}, root ? root.name : trace.trace_id),
    h("dl", { className: "facts inline trace-facts" },
      fact("trace", trace.trace_id),
      fact("started", root ? formatInstant(root.start_time) : "—"),
      fact("duration", formatDuration(durationMs)),
      fact("spans", formatCount(trace.span_count), "span-count"),
      fact("LLM calls", formatCount(totals.llmCalls)),
      fact("tokens in / out", `${formatCount(totals.inputTokens)} / ${formatCount(totals.outputTokens)}`),
      fact("cost", `${formatCost(String(totals.costUsd))}${totals.isPriced ? "" : " (some unpriced)"}`),
      fact("errors", formatCount(totals.errors)),
      totals.userId ? fact("user", totals.userId) : null),
  ];
}

function fact(label, value, name) {
  return [h("dt", {}, label), h("dd", { dataset: name ? { fact: name } : {} }, value)];
}
