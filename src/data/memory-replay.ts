import type { BarColumns, MergedBatch } from './columns.js';
import { DataError } from './errors.js';
import { DayMerge, newBatch, trimBatch } from './merge.js';
import { DAY_NS, utcDayNumber } from './time.js';

function lowerBound(times: BigInt64Array, lo: number, hi: number, t: bigint): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as bigint) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Replays in-memory columns (e.g. parsed CSV files) as one stream ordered by open time, ties in the
 * order of `series` (stable), in batches of `batchSize` (each freshly allocated). Each series must
 * already be in strictly increasing open-time order (the CSV parser guarantees it). Optional
 * `[fromNs, toNs)` range on the open time. The merge is the store's: UTC day by day, a binary heap
 * keyed by ns since the day start.
 * @throws DataError InvalidInput on an empty or duplicated series list or a batch size below 1
 */
export function* replayColumns(series: readonly BarColumns[], options: { fromNs?: bigint; toNs?: bigint; batchSize?: number } = {}): Iterable<MergedBatch> {
  if (series.length === 0) throw new DataError('InvalidInput', 'replay needs at least one series');
  const symbols = series.map((s) => s.symbol);
  if (new Set(symbols).size !== symbols.length) throw new DataError('InvalidInput', `replay symbols contain duplicates: ${symbols.join(', ')}`);
  const timeframes = series.map((s) => s.timeframe);
  const batchSize = options.batchSize ?? 8192;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError('InvalidInput', `batchSize ${batchSize} must be a positive integer`);
  const k = series.length;
  const pos = new Int32Array(k);
  const end = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    const s = series[j] as BarColumns;
    const b = options.toNs === undefined ? s.length : lowerBound(s.openTimeNs, 0, s.length, options.toNs);
    pos[j] = options.fromNs === undefined ? 0 : lowerBound(s.openTimeNs, 0, b, options.fromNs);
    end[j] = b;
  }
  const merge = new DayMerge(k);
  const day = new Array<BarColumns | undefined>(k);
  let out = newBatch(symbols, timeframes, batchSize);
  let fill = 0;
  for (;;) {
    // the earliest UTC day any series still has bars on
    let next = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      if ((pos[j] as number) < (end[j] as number)) next = Math.min(next, utcDayNumber((series[j] as BarColumns).openTimeNs[pos[j] as number] as bigint));
    }
    if (next === Number.POSITIVE_INFINITY) break;
    const dayStart = BigInt(next) * DAY_NS;
    const dayEnd = dayStart + DAY_NS;
    for (let j = 0; j < k; j++) {
      const s = series[j] as BarColumns;
      const a = pos[j] as number;
      const e = end[j] as number;
      if (a >= e || (s.openTimeNs[a] as bigint) >= dayEnd) {
        day[j] = undefined;
        continue;
      }
      const b = lowerBound(s.openTimeNs, a, e, dayEnd);
      day[j] = {
        symbol: s.symbol,
        timeframe: s.timeframe,
        length: b - a,
        openTimeNs: s.openTimeNs.subarray(a, b),
        closeTimeNs: s.closeTimeNs.subarray(a, b),
        open: s.open.subarray(a, b),
        high: s.high.subarray(a, b),
        low: s.low.subarray(a, b),
        close: s.close.subarray(a, b),
        volume: s.volume.subarray(a, b),
      };
      pos[j] = b;
    }
    merge.start(day, dayStart);
    for (;;) {
      fill = merge.fill(out, fill);
      if (fill < batchSize) break;
      yield out;
      out = newBatch(symbols, timeframes, batchSize);
      fill = 0;
    }
  }
  if (fill > 0) yield trimBatch(out, fill);
}
