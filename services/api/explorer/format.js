// How numbers, instants, durations, sizes and costs read on screen.

/** A duration in milliseconds: "850 ms", "2.4 s", "3 min 5 s". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms === 0) return "0";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A USD amount from the API's exact decimal string: "$0.0123", "—" when unpriced. */
export function formatCost(decimal) {
  if (decimal === null || decimal === undefined || decimal === "") return "—";
  const value = Number(decimal);
  if (value === 0) return "$0";
  if (value < 0.0001) return `$${value.toFixed(8).replace(/0+$/, "")}`;
  if (value < 1) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

/** An integer with thousands separators, "—" when absent. */
export function formatCount(value) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-US");
}

/** An instant as local date and time, to the second. */
export function formatInstant(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A size in characters: "820 chars", "100.0 K chars". */
export function formatChars(count) {
  if (count < 1000) return `${count} chars`;
  if (count < 1_000_000) return `${(count / 1000).toFixed(1)} K chars`;
  return `${(count / 1_000_000).toFixed(1)} M chars`;
}

/** Short form of an id for tables. */
export function shortId(id) {
  return id && id.length > 12 ? `${id.slice(0, 8)}…` : id || "—";
}
