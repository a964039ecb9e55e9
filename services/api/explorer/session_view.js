// A session: its turns (traces) in order with the session's totals, and the list of sessions.

import { api } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatInstant } from "./format.js";
import { RANGES, resolveRange } from "./range.js";
import { navigate, routeHash } from "./router.js";
import { VirtualList } from "./virtual_list.js";

/** The view of session `route.id`. */
export function sessionView(route, context) {
  const sessionId = route.id;
  const head = h("div", { className: "view-head" }, h("p", { className: "muted" }, "Loading session…"));
  const list = new VirtualList({
    rowHeight: 34,
    className: "turn-rows",
    label: "Turns",
    renderRow: turnRow,
    onActivate: (turn) => navigate(routeHash("traces", turn.trace_id)),
  });
  const element = h("div", { className: "view session-view", dataset: { state: "loading" } },
    head, h("div", { className: "table turn-table" }, turnHeads(), list.element));
  const controller = new AbortController();

  api.getSession(sessionId, { signal: controller.signal }).then((session) => {
    replaceChildren(head, sessionHead(session));
    list.setItems(session.traces.map((trace, index) => ({ ...trace, turn: index + 1 })));
    element.dataset.state = "ready";
    element.dataset.count = String(session.traces.length);
    list.element.focus({ preventScroll: true });
  }, (error) => {
    if (error.name === "AbortError") return;
    if (error.isKeyProblem) return context.onKeyProblem(error);
    element.dataset.state = "error";
    head.replaceChildren(h("div", { className: "error-box", attrs: { role: "alert" } },
      `Could not load session ${sessionId}: ${error.message}`));
  });
  return {
    element,
    matches: (next) => next.view === "sessions" && next.id === sessionId,
    update: () => {},
    destroy: () => {
      controller.abort();
      list.destroy();
    },
  };
}

function sessionHead(session) {
  const totals = session.totals;
  const spanMs = new Date(session.last_seen) - new Date(session.first_seen);
  return [
    h("nav", { className: "crumbs" }, h("a", { href: "#/sessions" }, "← Sessions")),
    h("h2", {}, `Session ${session.session_id}`),
    h("dl", { className: "facts inline session-totals" },
      fact("users", session.user_ids.join(", ") || "—"),
      fact("first seen", formatInstant(session.first_seen)),
      fact("last seen", formatInstant(session.last_seen)),
      fact("span of time", formatDuration(spanMs)),
      fact("turns", formatCount(totals.trace_count), "turns"),
      fact("LLM calls", formatCount(totals.llm_call_count), "llm-calls"),
      fact("tokens in / out",
        `${formatCount(totals.input_tokens)} / ${formatCount(totals.output_tokens)}`, "tokens"),
      fact("cost", formatCost(totals.cost_usd), "cost"),
      fact("errors", formatCount(totals.error_count), "errors")),
    session.is_truncated ? h("p", { className: "warning" }, "Only the first 1,000 turns are shown.") : null,
  ];
}

function turnHeads() {
  return h("div", { className: "table-head turn-grid" },
    ["turn", "started", "name", "duration", "LLM calls", "tokens in / out", "cost", "errors"]
      .map((label) => h("span", {}, label)));
}

function turnRow(turn) {
  return h("div", { className: `turn-grid${turn.error_count ? " has-error" : ""}`,
    dataset: { traceId: turn.trace_id } },
  h("span", { className: "num" }, `#${turn.turn}`),
  h("span", {}, formatInstant(turn.start_time)),
  h("a", { href: routeHash("traces", turn.trace_id) }, turn.name || turn.trace_id),
  h("span", { className: "num" }, formatDuration(turn.duration_ms)),
  h("span", { className: "num" }, formatCount(turn.llm_call_count)),
  h("span", { className: "num" }, `${formatCount(turn.input_tokens)} / ${formatCount(turn.output_tokens)}`),
  h("span", { className: "num" }, formatCost(turn.cost_usd)),
  h("span", { className: "num" }, turn.error_count ? String(turn.error_count) : ""));
}

/** The list of sessions active in a range, most recent first. */
export function sessionListView(route, context) {
  const params = route.params;
  const status = h("p", { className: "status", attrs: { role: "status" } }, "Loading sessions…");
  const list = new VirtualList({
    rowHeight: 34,
    className: "session-rows",
    label: "Sessions",
    renderRow: sessionRow,
    onActivate: (session) => navigate(routeHash("sessions", session.session_id)),
  });
  const range = h("select", { name: "range" }, RANGES.filter(([key]) => key !== "all")
    .map(([value, label]) => h("option", { value, selected: (params.range || "7d") === value }, label)));
  const user = h("input", { name: "user", type: "search", placeholder: "user id", value: params.user || "" });
  const form = h("form", { className: "filters" },
    h("label", { className: "field" }, h("span", {}, "time range"), range),
    h("label", { className: "field" }, h("span", {}, "user"), user),
    h("div", { className: "filter-actions" }, h("button", { type: "submit" }, "Apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(routeHash("sessions", null, { range: range.value, user: user.value.trim() }));
  });
  const element = h("div", { className: "view list-view", dataset: { state: "loading" } },
    form, status, h("div", { className: "table session-table" }, h("div",
      { className: "table-head session-grid" },
      ["session", "user", "last seen", "turns", "LLM calls", "tokens in / out", "cost", "errors"]
        .map((label) => h("span", {}, label))), list.element));
  const controller = new AbortController();
  const query = { ...resolveRange({ range: params.range || "7d" }), user: params.user, limit: 500 };
  api.listSessions(query, { signal: controller.signal }).then((page) => {
    list.setItems(page.data);
    status.textContent = `${page.data.length}${page.next_cursor ? "+" : ""} sessions`;
    element.dataset.state = "ready";
  }, (error) => {
    if (error.name === "AbortError") return;
    if (error.isKeyProblem) return context.onKeyProblem(error);
    element.dataset.state = "error";
    status.replaceChildren(h("span", { className: "error-text", attrs: { role: "alert" } },
      `The API refused this list: ${error.message}`));
  });
  return {
    element,
    matches: () => false,
    update: () => {},
    destroy: () => {
      controller.abort();
      list.destroy();
    },
  };
}

function sessionRow(session) {
  return h("div", { className: `session-grid${session.error_count ? " has-error" : ""}` },
    h("a", { href: routeHash("sessions", session.session_id) }, session.session_id),
    h("span", {}, session.user_id || "—"),
    h("span", {}, formatInstant(session.last_seen)),
    h("span", { className: "num" }, formatCount(session.trace_count)),
    h("span", { className: "num" }, formatCount(session.llm_call_count)),
    h("span", { className: "num" },
      `${formatCount(session.input_tokens)} / ${formatCount(session.output_tokens)}`),
    h("span", { className: "num" }, formatCost(session.cost_usd)),
    h("span", { className: "num" }, session.error_count ? String(session.error_count) : ""));
}

function fact(label, value, name) {
  return [h("dt", {}, label), h("dd", { dataset: name ? { fact: name } : {} }, value)];
}
