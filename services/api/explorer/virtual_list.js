// A list that renders only the rows in view (plus a few above and below), so a list of 1,000
// or 100,000 items costs the same few dozen DOM rows. Rows have one fixed height. Keyboard:
// ArrowUp/ArrowDown (or k/j), PageUp/PageDown, Home/End move the selection; Enter activates.

import { h } from "./dom.js";

const OVERSCAN_ROWS = 8;

export class VirtualList {
  /** `renderRow(item, index, isSelected)` returns the row's element; `onSelect(item, index)`
   * follows a change of selection, `onActivate(item, index)` Enter or a click;
   * `onKey(event, item, index)` may handle other keys (return true when it did). */
  constructor({ rowHeight, renderRow, onSelect, onActivate, onKey, className = "", label = "" }) {
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.onSelect = onSelect || (() => {});
    this.onActivate = onActivate || (() => {});
    this.onKey = onKey || (() => false);
    this.items = [];
    this.selectedIndex = -1;
    this.spacer = h("div", { className: "vl-spacer" });
    this.element = h(
      "div",
      { className: `vl-viewport ${className}`.trim(), tabIndex: 0,
        attrs: { role: "listbox", "aria-label": label } },
      this.spacer,
    );
    this.pending = false;
    this.element.addEventListener("scroll", () => this.schedule());
    this.element.addEventListener("keydown", (event) => this.handleKey(event));
    this.element.addEventListener("click", (event) => this.handleClick(event));
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(this.element);
  }

  /** Show `items`; the selection follows the item with the same `keyOf` value, if any. */
  setItems(items, keyOf = null) {
    const selected = this.items[this.selectedIndex];
    this.items = items;
    let index = -1;
    if (selected !== undefined && keyOf) {
      const key = keyOf(selected);
      index = items.findIndex((item) => keyOf(item) === key);
    }
    this.selectedIndex = index;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.render();
  }

  /** Select the item at `index` (clamped), scroll it into view and tell `onSelect`. */
  select(index, { notify = true } = {}) {
    if (!this.items.length) return;
    const started = performance.now();
    const clamped = Math.max(0, Math.min(this.items.length - 1, index));
    this.selectedIndex = clamped;
    this.reveal(clamped);
    this.render();
    if (notify) this.onSelect(this.items[clamped], clamped);
    performance.measure("explorer:select-row", { start: started, end: performance.now() });
  }

  /** Scroll so that row `index` is in view. */
  reveal(index) {
    const top = index * this.rowHeight;
    const view = this.element;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + this.rowHeight > view.scrollTop + view.clientHeight) {
      view.scrollTop = top + this.rowHeight - view.clientHeight;
    }
  }

  /** Stop observing the viewport's size. */
  destroy() {
    this.resizeObserver.disconnect();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const view = this.element;
    const height = view.clientHeight || 600;
    const first = Math.max(0, Math.floor(view.scrollTop / this.rowHeight) - OVERSCAN_ROWS);
    const last = Math.min(
      this.items.length,
      Math.ceil((view.scrollTop + height) / this.rowHeight) + OVERSCAN_ROWS,
    );
    const rows = [];
    for (let index = first; index < last; index += 1) {
      const isSelected = index === this.selectedIndex;
      const row = this.renderRow(this.items[index], index, isSelected);
      row.classList.add("vl-row");
      row.classList.toggle("is-selected", isSelected);
      row.dataset.index = String(index);
      row.setAttribute("role", "option");
      row.setAttribute("aria-selected", String(isSelected));
      row.style.top = `${index * this.rowHeight}px`;
      row.style.height = `${this.rowHeight}px`;
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }

  handleKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const index = this.selectedIndex;
    const page = Math.max(1, Math.floor(this.element.clientHeight / this.rowHeight) - 1);
    const moves = {
      ArrowDown: index + 1, j: index + 1, ArrowUp: index - 1, k: index - 1,
      PageDown: index + page, PageUp: index - page, Home: 0, End: this.items.length - 1,
    };
    if (event.key in moves) {
      this.select(index < 0 && event.key !== "End" ? 0 : moves[event.key]);
    } else if (event.key === "Enter" && index >= 0) {
      this.onActivate(this.items[index], index);
    } else if (!this.onKey(event, this.items[index], index)) {
      return;
    }
    event.preventDefault();
  }

  handleClick(event) {
    if (event.target.closest("button, a, input")) return;
    const row = event.target.closest("[data-index]");
    if (!row) return;
    const index = Number(row.dataset.index);
    this.select(index);
    this.onActivate(this.items[index], index);
  }
}
