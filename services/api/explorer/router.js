// URL state: every view and its state live in the location's hash, so every view deep-links.
//   #/traces?model=gpt-4o&range=24h     the trace list and its filters
//   #/traces/<trace id>?span=<span id>  one trace, one span selected
//   #/sessions?range=7d                 the session list
//   #/sessions/<session id>             one session
//   #/usage?range=7d&metric=cost        usage over time

const VIEWS = new Set(["traces", "sessions", "usage"]);

/** The route of a hash: `{view, id, params}` where params is a plain object of strings (a
 * repeated parameter becomes an array). Unknown views fall back to the trace list. */
export function parseRoute(hash) {
  const text = hash.replace(/^#\/?/, "");
  const [path, query = ""] = splitOnce(text, "?");
  const [first, ...rest] = path.split("/").filter(Boolean);
  const view = VIEWS.has(first) ? first : "traces";
  const id = VIEWS.has(first) && rest.length ? decodeURIComponent(rest.join("/")) : null;
  const params = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (name in params) params[name] = [].concat(params[name], value);
    else params[name] = value;
  }
  return { view, id, params };
}

/** The hash of a route; empty parameters are left out. */
export function routeHash(view, id = null, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") query.append(name, String(item));
    }
  }
  const path = id ? `${view}/${encodeURIComponent(id)}` : view;
  const search = query.toString();
  return `#/${path}${search ? `?${search}` : ""}`;
}

/** The current route. */
export function currentRoute() {
  return parseRoute(window.location.hash);
}

/** Go to a hash: a new history entry, or the current one replaced (state changes within a
 * view, such as the selected span, should not flood the back button). */
export function navigate(hash, { replace = false } = {}) {
  if (hash === window.location.hash) return;
  if (replace) {
    window.history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = hash;
  }
}

/** Call `listener(route)` on every change of the hash. */
export function onRouteChange(listener) {
  window.addEventListener("hashchange", () => listener(currentRoute()));
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}
