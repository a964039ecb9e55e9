// The explorer's entry point: the page's frame, and the view of the URL's route.

import { h, replaceChildren } from "./dom.js";
import { keyForm } from "./key_form.js";
import { readKey } from "./key.js";
import { currentRoute, onRouteChange } from "./router.js";
import { sessionListView, sessionView } from "./session_view.js";
import { traceListView } from "./trace_list.js";
import { traceView } from "./trace_view.js";
import { usageView } from "./usage_view.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let current = null;

const context = {
  onKeyProblem: (error) => showKeyForm(error),
};

function createView(route) {
  if (route.view === "traces" && route.id) return traceView(route, context);
  if (route.view === "sessions" && route.id) return sessionView(route, context);
  if (route.view === "sessions") return sessionListView(route, context);
  if (route.view === "usage") return usageView(route, context);
  return traceListView(route, context);
}

function show(route) {
  markNav(route.view);
  if (current && current.matches(route)) {
    current.update(route);
    return;
  }
  if (current) current.destroy();
  current = createView(route);
  replaceChildren(main, current.element);
  document.title = `${titleOf(route)} · LLM Observatory`;
}

function showKeyForm(error) {
  if (current) current.destroy();
  current = null;
  replaceChildren(main, keyForm(error, () => {
    buildNav();
    show(currentRoute());
  }));
  document.title = "API key · LLM Observatory";
}

function titleOf(route) {
  if (route.view === "traces") return route.id ? `Trace ${route.id}` : "Traces";
  if (route.view === "sessions") return route.id ? `Session ${route.id}` : "Sessions";
  return "Usage";
}

function markNav(view) {
  for (const link of nav.querySelectorAll("a[data-view]")) {
    link.classList.toggle("is-active", link.dataset.view === view);
  }
}

function buildNav() {
  const keyButton = h("button", { type: "button", className: "secondary key-button" },
    readKey() ? "API key ✓" : "API key");
  keyButton.addEventListener("click", () => showKeyForm(null));
  replaceChildren(nav,
    h("a", { href: "#/traces", dataset: { view: "traces" } }, "Traces"),
    h("a", { href: "#/sessions", dataset: { view: "sessions" } }, "Sessions"),
    h("a", { href: "#/usage", dataset: { view: "usage" } }, "Usage"),
    h("a", { href: "/docs" }, "API docs"),
    keyButton);
}

// "/" puts the cursor in the first filter, as in most list UIs.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.target.closest("input, textarea, select")) return;
  const first = main.querySelector("form.filters input");
  if (first) {
    event.preventDefault();
    first.focus();
  }
});

buildNav();
onRouteChange(show);
show(currentRoute());
