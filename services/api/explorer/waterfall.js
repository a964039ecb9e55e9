// The waterfall of a trace: spans nested under their parents, each with a bar placed on the
// trace's timeline. Built on the virtual list, so 1,000 spans render as a few dozen rows.
// ArrowLeft collapses a span (or goes to its parent), ArrowRight expands it.

import { h } from "./dom.js";
import { formatDuration } from "./format.js";
import { VirtualList } from "./virtual_list.js";

const ROW_HEIGHT = 26;
const INDENT_PX = 14;

/** Every span of a tree in display order: `{span, depth, parent, hasChildren}`, children in
 * start order; the timeline offsets in milliseconds from the trace's first start. */
export function flattenTrace(roots) {
  const all = [];
  const stack = [...roots].reverse().map((span) => ({ span, depth: 0, parent: null }));
  while (stack.length) {
    const entry = stack.pop();
    const children = sortedByStart(entry.span.children || []);
    all.push({ ...entry, hasChildren: children.length > 0 });
    for (let i = children.length - 1; i >= 0; i -= 1) {
      stack.push({ span: children[i], depth: entry.depth + 1, parent: entry.span.span_id });
    }
  }
  let origin = null;
  let end = null;
  for (const entry of all) {
    entry.startNs = BigInt(entry.span.start_time_unix_nano);
    entry.endNs = BigInt(entry.span.end_time_unix_nano);
    if (origin === null || entry.startNs < origin) origin = entry.startNs;
    if (end === null || entry.endNs > end) end = entry.endNs;
  }
  for (const entry of all) {
    entry.startMs = Number(entry.startNs - origin) / 1e6;
    entry.endMs = Math.max(entry.startMs, Number(entry.endNs - origin) / 1e6);
  }
  return { entries: all, totalMs: all.length ? Number(end - origin) / 1e6 : 0 };
}

function sortedByStart(spans) {
  return [...spans].sort((a, b) => {
    const left = BigInt(a.start_time_unix_nano);
    const right = BigInt(b.start_time_unix_nano);
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/** What a span is, for its colour: llm, embedding, tool, agent, ... or plain. */
export function spanType(span) {
  return (span.llm && span.llm.span_type) || "plain";
}

export class Waterfall {
  /** `onSelect(span)` follows every change of the selected span. */
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.entries = [];
    this.byId = new Map();
    this.totalMs = 0;
    this.collapsed = new Set();
    this.list = new VirtualList({
      rowHeight: ROW_HEIGHT,
      className: "waterfall-rows",
      label: "Spans",
      renderRow: (entry) => this.renderRow(entry),
      onSelect: (entry) => this.onSelect(entry.span),
      onKey: (event, entry) => this.handleKey(event, entry),
    });
    this.element = h("div", { className: "waterfall" }, this.axis(), this.list.element);
  }

  /** Show the spans of a trace (the `spans` tree of GET /v1/traces/{id}). */
  setTrace(roots) {
    const { entries, totalMs } = flattenTrace(roots);
    this.entries = entries;
    this.byId = new Map(entries.map((entry) => [entry.span.span_id, entry]));
    this.totalMs = totalMs;
    this.collapsed.clear();
    this.element.replaceChildren(this.axis(), this.list.element);
    this.refresh();
  }

  /** Select the span with this id (expanding its ancestors); false when it is not there. */
  selectSpan(spanId, { notify = false } = {}) {
    const entry = this.byId.get(spanId);
    if (!entry) return false;
    let hidden = false;
    for (let parent = entry.parent; parent; parent = this.byId.get(parent)?.parent) {
      hidden = this.collapsed.delete(parent) || hidden;
    }
    if (hidden) this.refresh();
    const index = this.list.items.indexOf(entry);
    this.list.select(index, { notify });
    return true;
  }

  /** Focus the rows (keyboard navigation). */
  focus() {
    this.list.element.focus();
  }

  destroy() {
    this.list.destroy();
  }

  refresh() {
    const visible = [];
    let hiddenBelowDepth = Infinity;
    for (const entry of this.entries) {
      if (entry.depth > hiddenBelowDepth) continue;
      hiddenBelowDepth = Infinity;
      visible.push(entry);
      if (this.collapsed.has(entry.span.span_id)) hiddenBelowDepth = entry.depth;
    }
    this.list.setItems(visible, (entry) => entry.span.span_id);
  }

  toggle(entry) {
    const id = entry.span.span_id;
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.refresh();
  }

  handleKey(event, entry) {
    if (!entry) return false;
    const isCollapsed = this.collapsed.has(entry.span.span_id);
    if (event.key === "ArrowLeft" || event.key === "h") {
      if (entry.hasChildren && !isCollapsed) this.toggle(entry);
      else if (entry.parent) this.selectSpan(entry.parent, { notify: true });
      return true;
    }
    if (event.key === "ArrowRight" || event.key === "l") {
      if (entry.hasChildren && isCollapsed) this.toggle(entry);
      return true;
    }
    return false;
  }

  axis() {
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => h(
      "span",
      { className: "wf-tick", style: { left: `${share * 100}%` } },
      formatDuration(this.totalMs * share),
    ));
    return h("div", { className: "wf-axis" }, h("div", { className: "wf-axis-name" }, "span"),
      h("div", { className: "wf-axis-time" }, ticks));
  }

  renderRow(entry) {
    const { span } = entry;
    const total = this.totalMs || 1;
    const isError = span.status && span.status.code === "ERROR";
    const isCollapsed = this.collapsed.has(span.span_id);
    const toggle = entry.hasChildren
      ? h("button", {
        className: "wf-toggle", type: "button", tabIndex: -1,
        attrs: { "aria-label": isCollapsed ? "expand" : "collapse" },
        onclick: () => this.toggle(entry),
      }, isCollapsed ? "▸" : "▾")
      : h("span", { className: "wf-toggle-space" });
    const left = (entry.startMs / total) * 100;
    const width = Math.max(((entry.endMs - entry.startMs) / total) * 100, 0.2);
    return h(
      "div",
      { className: `wf-row type-${spanType(span)}${isError ? " is-error" : ""}`,
        dataset: { spanId: span.span_id } },
      h("div", { className: "wf-name", style: { paddingLeft: `${entry.depth * INDENT_PX}px` } },
        toggle, h("span", { className: "wf-label", title: span.name }, span.name),
        isError ? h("span", { className: "badge error" }, "error") : null),
      h("div", { className: "wf-track" },
        h("div", { className: "wf-bar", style: { left: `${left}%`, width: `${width}%` } }),
        h("span", { className: "wf-duration", style: { left: `${left + width}%` } },
          formatDuration(span.duration_ms))),
    );
  }
}
