const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** JSON for a `<script type="application/json">` element: `<`, `>`, `&` and line separators escaped, so no `</script>` can end it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Epoch ns as `YYYY-MM-DD HH:MM:SS` UTC (sub-second digits only when present, to the ms). */
export function formatTimeNs(t: bigint): string {
  const ms = t / 1_000_000n - (t < 0n && t % 1_000_000n !== 0n ? 1n : 0n);
  const iso = new Date(Number(ms)).toISOString();
  const base = iso.slice(0, 19).replace('T', ' ');
  return iso.slice(20, 23) === '000' ? base : `${base}.${iso.slice(20, 23)}`;
}

/** A duration in ns as days, hours or minutes (`12.5 d`, `3.0 h`, `45 min`). */
export function formatDurationNs(ns: bigint): string {
  const minutes = Number(ns) / 60e9;
  if (minutes >= 24 * 60) return `${(minutes / (24 * 60)).toFixed(1)} d`;
  if (minutes >= 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${Math.round(minutes)} min`;
}

function nonFinite(x: number): string | undefined {
  if (Number.isNaN(x)) return 'n/a';
  if (x === Number.POSITIVE_INFINITY) return '∞';
  if (x === Number.NEGATIVE_INFINITY) return '-∞';
  return undefined;
}

/** A fraction as a percentage with 2 decimals (`0.1234` -> `12.34 %`); `n/a` for NaN, `∞` for Infinity. */
export function formatPercent(x: number): string {
  return nonFinite(x) ?? `${(x * 100).toFixed(2)} %`;
}

/** A number with fixed decimals; `n/a` for NaN, `∞` for Infinity. */
export function formatNumber(x: number, decimals = 2): string {
  return nonFinite(x) ?? x.toFixed(decimals);
}
