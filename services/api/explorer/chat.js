// Messages of an LLM call rendered as a chat: one bubble per message with its role, and its
// parts as text, reasoning, tool calls and tool results. Every value is shown as text.

import { h } from "./dom.js";
import { jsonBlock, textBlock } from "./text.js";

const KNOWN_ROLES = new Set(["system", "user", "assistant", "tool", "developer"]);

/** A chat of `messages` (canonical {role, parts, name?, finish_reason?}) under a heading;
 * null when there is nothing to show. */
export function chatSection(title, messages) {
  if (!Array.isArray(messages) || messages.length === 0) return null;
  return h(
    "section",
    { className: "chat" },
    h("h4", {}, `${title} (${messages.length})`),
    messages.map((message, index) => messageBubble(message, index)),
  );
}

/** System instructions (a list of parts) as one system bubble. */
export function instructionsSection(parts) {
  if (!Array.isArray(parts) || parts.length === 0) return null;
  return chatSection("System instructions", [{ role: "system", parts }]);
}

function messageBubble(message, index) {
  if (!message || typeof message !== "object") {
    return h("div", { className: "message role-other" }, jsonBlock(message));
  }
  const role = typeof message.role === "string" ? message.role : "unknown";
  const roleClass = KNOWN_ROLES.has(role) ? role : "other";
  const parts = Array.isArray(message.parts) ? message.parts : [];
  return h(
    "div",
    { className: `message role-${roleClass}`, dataset: { index: String(index) } },
    h(
      "div",
      { className: "message-head" },
      h("span", { className: "role" }, role),
      message.name ? h("span", { className: "sender" }, message.name) : null,
      message.finish_reason
        ? h("span", { className: "finish" }, `finish: ${message.finish_reason}`)
        : null,
    ),
    parts.length ? parts.map(partView) : h("p", { className: "muted" }, "(no content)"),
  );
}

function partView(part) {
  if (typeof part === "string") return textBlock(part);
  if (!part || typeof part !== "object") return jsonBlock(part);
  switch (part.type) {
    case "text":
      return textBlock(String(part.content ?? ""));
    case "reasoning":
      return h(
        "div",
        { className: "part reasoning" },
        h("div", { className: "part-label" }, "reasoning"),
        textBlock(String(part.content ?? "")),
      );
    case "tool_call":
      return h(
        "div",
        { className: "part tool-call" },
        h("div", { className: "part-label" }, "tool call ", h("code", {}, String(part.name ?? "?")),
          part.id ? h("span", { className: "muted" }, ` id ${part.id}`) : null),
        jsonBlock(part.arguments ?? null),
      );
    case "tool_call_response":
      return h(
        "div",
        { className: "part tool-result" },
        h("div", { className: "part-label" }, "tool result",
          part.id ? h("span", { className: "muted" }, ` for ${part.id}`) : null),
        jsonBlock(part.response ?? null),
      );
    case "uri":
      return h(
        "div",
        { className: "part uri" },
        h("div", { className: "part-label" }, `${part.modality || "file"} at`),
        textBlock(String(part.uri ?? "")),
      );
    default:
      return h(
        "div",
        { className: "part other" },
        h("div", { className: "part-label" }, String(part.type ?? "part")),
        jsonBlock(part),
      );
  }
}
