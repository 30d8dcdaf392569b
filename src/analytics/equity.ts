import { AnalyticsError } from './errors.js';
import type { EquityColumns, EquityInput } from './types.js';

/** Converts an equity curve to columns (a no-op for columns); O(n). */
export function toEquityColumns(input: EquityInput): EquityColumns {
  if (!Array.isArray(input)) return input as EquityColumns;
  const points = input as readonly { timeNs: bigint; equity: number; exposure: number }[];
  const n = points.length;
  const cols: EquityColumns = { timeNs: new BigInt64Array(n), equity: new Float64Array(n), exposure: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const p = points[i] as { timeNs: bigint; equity: number; exposure: number };
    cols.timeNs[i] = p.timeNs;
    cols.equity[i] = p.equity;
    cols.exposure[i] = p.exposure;
  }
  return cols;
}

/**
 * Checks an equity curve: at least one point, equal column lengths, non-decreasing times, finite values,
 * a positive first equity.
 * @throws AnalyticsError InvalidEquity naming the first bad index
 */
export function validateEquity(cols: EquityColumns): void {
  const n = cols.timeNs.length;
  if (cols.equity.length !== n || cols.exposure.length !== n) {
    throw new AnalyticsError('InvalidEquity', `equity columns differ in length: timeNs ${n}, equity ${cols.equity.length}, exposure ${cols.exposure.length}`);
  }
  if (n === 0) throw new AnalyticsError('InvalidEquity', 'equity curve is empty');
  let prev = cols.timeNs[0] as bigint;
  for (let i = 0; i < n; i++) {
    const t = cols.timeNs[i] as bigint;
    if (t < prev) throw new AnalyticsError('InvalidEquity', `equity point ${i}: time ${t} ns is before the previous point's ${prev} ns`);
    prev = t;
    const e = cols.equity[i] as number;
    if (!Number.isFinite(e)) throw new AnalyticsError('InvalidEquity', `equity point ${i}: equity ${e} is not finite`);
    const x = cols.exposure[i] as number;
    if (!Number.isFinite(x)) throw new AnalyticsError('InvalidEquity', `equity point ${i}: exposure ${x} is not finite`);
  }
  const first = cols.equity[0] as number;
  if (first <= 0) throw new AnalyticsError('InvalidEquity', `equity point 0: starting equity must be > 0, got ${first}`);
}
