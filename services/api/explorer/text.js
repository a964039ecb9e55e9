// Text from telemetry: shown as text nodes only, long text collapsed until asked for, and the
// collector's redaction and truncation markers set apart so nobody reads them as content.

import { h } from "./dom.js";
import { formatChars } from "./format.js";

export const PREVIEW_CHARS = 600;
// `[REDACTED:EMAIL]`, `[HASH:EMAIL:<16 hex>]` (redact processor), `…[truncated N chars]`.
const MARKER = /\[REDACTED:[A-Z0-9_]+\]|\[HASH:[A-Z0-9_]+:[0-9a-f]{16}\]|…\[truncated \d+ chars\]/g;

/** Nodes of `text` with its markers wrapped in <mark> (class "redacted" or "truncated"). */
export function markedText(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const isTruncation = match[0].startsWith("…");
    nodes.push(
      h("mark", {
        className: isTruncation ? "truncated" : "redacted",
        title: isTruncation ? "Cut by the collector's size limits" : "Redacted by the collector",
      }, match[0]),
    );
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/** A block of text, collapsed to its beginning when longer than `previewChars`, with a
 * button that shows all of it (and collapses it again). */
export function textBlock(text, { previewChars = PREVIEW_CHARS, className = "" } = {}) {
  const value = typeof text === "string" ? text : String(text);
  const body = h("pre", { className: `text ${className}`.trim() });
  const block = h("div", { className: "text-block" }, body);
  if (value.length <= previewChars) {
    body.append(...markedText(value));
    return block;
  }
  let isOpen = false;
  const toggle = h("button", { className: "expand", type: "button" });
  const render = () => {
    const started = performance.now();
    body.replaceChildren(...markedText(isOpen ? value : `${value.slice(0, previewChars)}…`));
    toggle.textContent = isOpen ? "Collapse" : `Show all (${formatChars(value.length)})`;
    block.classList.toggle("is-collapsed", !isOpen);
    performance.measure("explorer:expand-text", { start: started, end: performance.now() });
  };
  toggle.addEventListener("click", () => {
    isOpen = !isOpen;
    render();
  });
  render();
  block.append(toggle);
  return block;
}

/** A JSON value pretty-printed as a text block (strings shown as they are). */
export function jsonBlock(value, options = {}) {
  if (typeof value === "string") return textBlock(value, options);
  return textBlock(JSON.stringify(value, null, 2) ?? "null", { ...options, className: "json" });
}
