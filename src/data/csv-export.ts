import type { BarStore, TimeRange } from './store.js';
import { formatIsoUtc } from './time.js';

/**
 * Shortest decimal that round-trips to `x` (JavaScript's `String(x)` digits), always in plain notation:
 * `1e-7` prints as `0.0000001`, `1e21` as `1000000000000000000000`.
 */
export function formatDecimal(x: number): string {
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s.startsWith('-');
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}

/** CSV header written by exportCsv. */
export const EXPORT_HEADER = 'datetime,open,high,low,close,volume';

/**
 * Writes `symbol`'s bars in `[fromNs, toNs)` as CSV (`datetime,open,high,low,close,volume`, datetime =
 * bar open time in UTC ISO-8601, numbers via formatDecimal), one chunk per stored day; resolves to the bar count.
 * @throws DataError from the store
 */
export async function exportCsv(store: BarStore, symbol: string, range: TimeRange, write: (chunk: string) => void | Promise<void>): Promise<number> {
  await write(`${EXPORT_HEADER}\n`);
  let count = 0;
  for await (const b of store.read(symbol, range)) {
    const parts: string[] = [];
    for (let i = 0; i < b.length; i++) {
      parts.push(
        `${formatIsoUtc(b.openTimeNs[i] as bigint)},${formatDecimal(b.open[i] as number)},${formatDecimal(b.high[i] as number)},${formatDecimal(b.low[i] as number)},${formatDecimal(b.close[i] as number)},${formatDecimal(b.volume[i] as number)}\n`,
      );
    }
    count += b.length;
    await write(parts.join(''));
  }
  return count;
}
