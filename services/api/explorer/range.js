// Time ranges named in URLs ("1h", "24h", "7d", "30d", "all") and the instants they mean now.

export const RANGES = [
  ["1h", "last hour", 3600e3],
  ["24h", "last 24 hours", 86400e3],
  ["7d", "last 7 days", 7 * 86400e3],
  ["30d", "last 30 days", 30 * 86400e3],
  ["all", "all time", null],
];

/** `{from, to}` ISO instants of a route's range: explicit `from`/`to` win over `range`. */
export function resolveRange(params, fallback = "24h") {
  if (params.from || params.to) return { from: params.from || "", to: params.to || "" };
  const name = params.range || fallback;
  const found = RANGES.find(([key]) => key === name);
  if (!found || found[2] === null) return { from: "", to: "" };
  return { from: new Date(Date.now() - found[2]).toISOString(), to: "" };
}
