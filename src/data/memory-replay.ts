import type { BarColumns, MergedBatch } from './columns.js';
import { DataError } from './errors.js';

/**
 * Replays in-memory columns (e.g. parsed CSV files) as one stream ordered by open time, ties in the
 * order of `series` (stable), in batches of `batchSize`. Each series must already be in open-time
 * order (the CSV parser guarantees it). Optional `[fromNs, toNs)` range on the open time.
 * @throws DataError InvalidInput on an empty or duplicated series list
 */
export function* replayColumns(series: readonly BarColumns[], options: { fromNs?: bigint; toNs?: bigint; batchSize?: number } = {}): Iterable<MergedBatch> {
  if (series.length === 0) throw new DataError('InvalidInput', 'replay needs at least one series');
  const symbols = series.map((s) => s.symbol);
  if (new Set(symbols).size !== symbols.length) throw new DataError('InvalidInput', `replay symbols contain duplicates: ${symbols.join(', ')}`);
  const timeframes = series.map((s) => s.timeframe);
  const batchSize = options.batchSize ?? 8192;
  const k = series.length;
  const pos = new Int32Array(k);
  const end = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    const s = series[j] as BarColumns;
    let a = 0;
    let b = s.length;
    if (options.fromNs !== undefined) while (a < b && (s.openTimeNs[a] as bigint) < options.fromNs) a++;
    if (options.toNs !== undefined) while (b > a && (s.openTimeNs[b - 1] as bigint) >= options.toNs) b--;
    pos[j] = a;
    end[j] = b;
  }
  const alloc = (n: number): MergedBatch => ({
    symbols,
    timeframes,
    length: n,
    symbolIndex: new Int32Array(n),
    openTimeNs: new BigInt64Array(n),
    closeTimeNs: new BigInt64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  });
  let out = alloc(batchSize);
  let fill = 0;
  for (;;) {
    // linear scan for the earliest head: k is small for file input; ties keep series order
    let best = -1;
    let bestT = 0n;
    for (let j = 0; j < k; j++) {
      if ((pos[j] as number) >= (end[j] as number)) continue;
      const t = (series[j] as BarColumns).openTimeNs[pos[j] as number] as bigint;
      if (best < 0 || t < bestT) {
        best = j;
        bestT = t;
      }
    }
    if (best < 0) break;
    const s = series[best] as BarColumns;
    const i = pos[best] as number;
    pos[best] = i + 1;
    out.symbolIndex[fill] = best;
    out.openTimeNs[fill] = bestT;
    out.closeTimeNs[fill] = s.closeTimeNs[i] as bigint;
    out.open[fill] = s.open[i] as number;
    out.high[fill] = s.high[i] as number;
    out.low[fill] = s.low[i] as number;
    out.close[fill] = s.close[i] as number;
    out.volume[fill] = s.volume[i] as number;
    if (++fill === batchSize) {
      yield out;
      out = alloc(batchSize);
      fill = 0;
    }
  }
  if (fill > 0) {
    const trimmed = alloc(fill);
    trimmed.symbolIndex.set(out.symbolIndex.subarray(0, fill));
    trimmed.openTimeNs.set(out.openTimeNs.subarray(0, fill));
    trimmed.closeTimeNs.set(out.closeTimeNs.subarray(0, fill));
    trimmed.open.set(out.open.subarray(0, fill));
    trimmed.high.set(out.high.subarray(0, fill));
    trimmed.low.set(out.low.subarray(0, fill));
    trimmed.close.set(out.close.subarray(0, fill));
    trimmed.volume.set(out.volume.subarray(0, fill));
    yield trimmed;
  }
}
