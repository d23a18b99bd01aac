// Exact decimals as the API sends them (strings such as "75375.40"), shown
// with digit grouping. Only the text is regrouped: nothing here parses a
// decimal into floating point or does arithmetic on money or weights.
export function grouped(s: string | null | undefined): string {
  if (s === null || s === undefined || s === "") return "—";
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(String(s));
  if (!m) return String(s);
  return `${m[1]}${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${m[3] || ""}`;
}

// A decimal the user typed, with grouping commas and spaces removed; the API
// checks the scale and the range.
export function typed(s: string): string {
  return s.replace(/[,\s]/g, "");
}
