// The panel of one span: what it was and how it ended; for an LLM call also the model, tokens by
// kind (estimated ones marked), cost with its price source, time to first token, finish reason
// and the messages as a chat.

import { chatSection, instructionsSection } from "./chat.js";
import { h } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatInstant } from "./format.js";
import { jsonBlock, textBlock } from "./text.js";

const TOKEN_KINDS = [
  ["input_tokens", "input"],
  ["output_tokens", "output"],
  ["cache_read_tokens", "cache read"],
  ["cache_write_tokens", "cache write"],
  ["reasoning_tokens", "reasoning"],
  ["total_tokens", "total"],
];
const PRICE_SOURCES = {
  "genai-prices": "public price list (genai-prices)",
  "project-override": "this project's price override",
  unpriced: "no price known",
};

/** The panel of `span` (a span of GET /v1/traces/{id}). */
export function spanPanel(span) {
  const isError = span.status && span.status.code === "ERROR";
  return h(
    "div",
    { className: "span-panel", dataset: { spanId: span.span_id } },
    h("h3", {}, span.name),
    facts([
      ["span", span.span_id],
      ["kind", span.kind],
      ["service", span.service_name],
      ["started", formatInstant(span.start_time)],
      ["duration", formatDuration(span.duration_ms)],
      ["status", span.status ? span.status.code : "—"],
    ]),
    isError && span.status.message
      ? h("div", { className: "error-box" }, h("strong", {}, "Error: "), textBlock(span.status.message))
      : null,
    span.llm ? llmPanel(span.llm) : null,
    eventsSection(span.events),
    attributesSection("Attributes", span.attributes),
    attributesSection("Resource", span.resource && span.resource.attributes),
  );
}

function llmPanel(llm) {
  const usage = llm.usage || {};
  const cost = llm.cost || {};
  const isEstimated = usage.source === "estimated";
  const model = llm.response_model && llm.response_model !== llm.request_model
    ? `${llm.request_model || "?"} → ${llm.response_model}`
    : llm.request_model || llm.response_model || "—";
  return h(
    "section",
    { className: "llm-panel" },
    h("h4", {}, "LLM call"),
    facts([
      ["model", model, "llm-model"],
      ["provider", llm.provider || llm.provider_raw || "—", "llm-provider"],
      ["operation", llm.operation || llm.span_type || "—"],
      ["time to first token", llm.time_to_first_token_ms == null
        ? "—" : formatDuration(llm.time_to_first_token_ms), "llm-ttft"],
      ["streaming", llm.is_streaming == null ? "—" : llm.is_streaming ? "yes" : "no"],
      ["finish reason", (llm.finish_reasons || []).join(", ") || "—", "llm-finish"],
      ["session", llm.session_id || "—"],
      ["user", llm.user_id || "—"],
      ["tags", (llm.tags || []).join(", ") || "—"],
    ]),
    tokensTable(usage, isEstimated),
    costFacts(cost),
    llm.error
      ? h("div", { className: "error-box llm-error" }, h("strong", {}, `Error ${llm.error.type || ""}: `),
        textBlock(llm.error.message || "(no message)"))
      : null,
    instructionsSection(llm.system_instructions),
    chatSection("Input messages", llm.input_messages),
    chatSection("Output messages", llm.output_messages),
    llm.tool_calls && llm.tool_calls.length
      ? h("section", {}, h("h4", {}, "Tool calls"), jsonBlock(llm.tool_calls))
      : null,
    llm.tool_definitions && llm.tool_definitions.length
      ? h("details", {}, h("summary", {}, `Tools offered (${llm.tool_definitions.length})`),
        jsonBlock(llm.tool_definitions))
      : null,
  );
}

function tokensTable(usage, isEstimated) {
  const rows = TOKEN_KINDS.filter(([name]) => usage[name] !== null && usage[name] !== undefined);
  if (!rows.length) return h("p", { className: "muted tokens" }, "No token counts reported.");
  return h(
    "table",
    { className: "tokens" },
    h("caption", {}, "Tokens",
      isEstimated ? h("span", { className: "badge estimated", title:
        "Counted by the collector from the message content: the instrumentation reported none" },
      "estimated") : null),
    h("tbody", {}, rows.map(([name, label]) => h(
      "tr",
      { dataset: { kind: name } },
      h("th", {}, label),
      h("td", { className: isEstimated ? "is-estimated" : "" },
        `${isEstimated ? "≈ " : ""}${formatCount(usage[name])}`),
    ))),
  );
}

function costFacts(cost) {
  const source = cost.price_source || "unpriced";
  const sourceText = PRICE_SOURCES[source] || source;
  const priced = cost.price_model ? ` — priced as ${cost.price_model}` : "";
  const version = cost.price_version ? ` (prices ${cost.price_version})` : "";
  return facts([
    ["cost", formatCost(cost.total_usd), "llm-cost"],
    ["input / output", `${formatCost(cost.input_usd)} / ${formatCost(cost.output_usd)}`],
    ["price source", `${sourceText}${priced}${version}`, "llm-price-source"],
    ["reported cost", formatCost(cost.reported_usd)],
  ]);
}

function eventsSection(events) {
  if (!Array.isArray(events) || events.length === 0) return null;
  return h(
    "details",
    { className: "events" },
    h("summary", {}, `Events (${events.length})`),
    events.map((event) => h("div", { className: "event" },
      h("strong", {}, String(event.name ?? "event")), jsonBlock(event.attributes ?? {}))),
  );
}

function attributesSection(title, attributes) {
  const entries = Object.entries(attributes || {});
  if (!entries.length) return null;
  return h(
    "details",
    { className: "attributes" },
    h("summary", {}, `${title} (${entries.length})`),
    h("table", {}, h("tbody", {}, entries.map(([name, value]) =>
      h("tr", {}, h("th", {}, name), h("td", {}, jsonBlock(value, { previewChars: 200 })))))),
  );
}

function facts(rows) {
  return h("dl", { className: "facts" }, rows.map(([label, value, testName]) => [
    h("dt", {}, label),
    h("dd", { dataset: testName ? { fact: testName } : {} }, value ?? "—"),
  ]));
}
