// Asking for the API key: why it is needed (no key, a refused key, a key that may not read),
// the form, and a check of the new key against the API before it is used.

import { api } from "./api.js";
import { h } from "./dom.js";
import { readKey, saveKey } from "./key.js";

/** The message for a key problem (an ApiError with status 401 or 403), or for no problem. */
export function keyProblemMessage(error, hasKey) {
  if (!error) return "Enter an API key of your project with the read scope.";
  if (error.status === 403) {
    return `This key may not read traces: ${error.message}. Use a project key with the read scope.`;
  }
  if (hasKey) {
    return `The API key was not accepted (${error.message}). Check it and enter it again.`;
  }
  return "This API needs a key to read traces. Enter an API key of your project with the read scope.";
}

/** The key form; `onReady()` runs once a key that reads was saved. */
export function keyForm(error, onReady) {
  const hasKey = Boolean(readKey());
  const message = h("p", {
    className: error ? "key-message error-text" : "key-message",
    attrs: { role: error ? "alert" : "status" },
  }, keyProblemMessage(error, hasKey));
  const input = h("input", { type: "password", name: "key", autocomplete: "off", required: true,
    placeholder: "lo_…", attrs: { "aria-label": "API key" } });
  const forget = h("button", { type: "button", className: "secondary", hidden: !hasKey },
    "Forget the saved key");
  const form = h("form", { className: "key-form" },
    h("h2", {}, "API key"), message,
    h("label", { className: "field" }, h("span", {}, "key"), input),
    h("p", { className: "muted" },
      "The key is kept in this browser (localStorage) and sent only to this API, in the ",
      h("code", {}, "Authorization"), " header."),
    h("div", { className: "filter-actions" }, h("button", { type: "submit" }, "Use this key"), forget));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const previous = readKey();
    saveKey(input.value.trim());
    message.className = "key-message";
    message.textContent = "Checking the key…";
    try {
      await api.listTraces({ limit: 1 });
    } catch (problem) {
      // A refused key is not kept: the one that was saved before (if any) stays.
      if (problem.isKeyProblem) saveKey(previous);
      message.className = "key-message error-text";
      message.setAttribute("role", "alert");
      message.textContent = problem.isKeyProblem
        ? keyProblemMessage(problem, true)
        : `The key could not be checked: ${problem.message}`;
      return;
    }
    onReady();
  });
  forget.addEventListener("click", () => {
    saveKey("");
    forget.hidden = true;
    message.className = "key-message";
    message.textContent = "The saved key is forgotten.";
  });
  setTimeout(() => input.focus(), 0);
  return h("div", { className: "view key-view", dataset: { state: "ready" } }, form);
}
