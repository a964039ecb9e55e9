// Building the page: elements from createElement and text from textContent, never from HTML.
// Telemetry is untrusted; going through these helpers is what keeps it inert.

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element: `attrs` sets properties (`className`, `onclick`, `dataset`, `style` object,
 * `attrs` for plain attributes); children are nodes, strings (as text) or null (skipped). */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element (attributes set with setAttribute; strings children become text). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") Object.assign(node.style, value);
    else if (name === "attrs") {
      for (const [key, attr] of Object.entries(value)) node.setAttribute(key, String(attr));
    } else if (name === "innerHTML" || name === "outerHTML") {
      throw new Error("HTML strings are never assigned");
    } else node[name] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}
