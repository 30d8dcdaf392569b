/** Bucket widths tried in order, seconds: 1s 1m 5m 15m 30m 1h 2h 4h 1d 1w 30d 91d 365.25d. */
const WIDTHS_S = [1, 60, 300, 900, 1800, 3600, 7200, 14_400, 86_400, 604_800, 2_592_000, 7_862_400, 31_557_600];
const WEEK_S = 604_800;
// weeks start on Monday 1970-01-05 (the epoch was a Thursday)
const MONDAY_OFFSET_S = 345_600;

/** Epoch ns to whole epoch seconds, rounding down (also before 1970). */
export function nsToSeconds(t: bigint): number {
  const q = t / 1_000_000_000n;
  return Number(t < 0n && q * 1_000_000_000n !== t ? q - 1n : q);
}

/** Start of the bucket of width `width` seconds that holds second `s`. */
export function bucketStart(s: number, width: number): number {
  const offset = width === WEEK_S ? MONDAY_OFFSET_S : 0;
  return Math.floor((s - offset) / width) * width + offset;
}

function countBuckets(secs: Float64Array, width: number): number {
  let count = 0;
  let last = Number.NaN;
  for (let i = 0; i < secs.length; i++) {
    const b = bucketStart(secs[i] as number, width);
    if (b !== last) {
      count++;
      last = b;
    }
  }
  return count;
}

/**
 * The smallest bucket width (seconds, from 1 s up a calendar-like ladder, then doubling) that leaves at
 * most `max` buckets over sorted epoch seconds; O(n) per width tried.
 */
export function chooseBucketWidth(secs: Float64Array, max: number): number {
  for (const w of WIDTHS_S) if (countBuckets(secs, w) <= max) return w;
  let w = WIDTHS_S[WIDTHS_S.length - 1] as number;
  do w *= 2;
  while (countBuckets(secs, w) > max);
  return w;
}

/** OHLC candles in columns, times in epoch seconds, strictly ascending. */
export interface CandleColumns {
  time: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
}

/** Aggregates sorted OHLC rows into buckets of `width` seconds (first open, max high, min low, last close). */
export function aggregateCandles(
  secs: Float64Array,
  open: ArrayLike<number>,
  high: ArrayLike<number>,
  low: ArrayLike<number>,
  close: ArrayLike<number>,
  width: number,
): CandleColumns {
  const out: CandleColumns = { time: [], open: [], high: [], low: [], close: [] };
  let k = -1;
  let last = Number.NaN;
  for (let i = 0; i < secs.length; i++) {
    const b = bucketStart(secs[i] as number, width);
    const h = high[i] as number;
    const l = low[i] as number;
    if (b !== last) {
      out.time.push(b);
      out.open.push(open[i] as number);
      out.high.push(h);
      out.low.push(l);
      out.close.push(close[i] as number);
      k++;
      last = b;
    } else {
      if (h > (out.high[k] as number)) out.high[k] = h;
      if (l < (out.low[k] as number)) out.low[k] = l;
      out.close[k] = close[i] as number;
    }
  }
  return out;
}

/** A line in columns, times in epoch seconds, strictly ascending. */
export interface LineColumns {
  time: number[];
  value: number[];
}

/** Aggregates a sorted line into buckets of `width` seconds, keeping each bucket's last value or its max. */
export function aggregateLine(secs: Float64Array, values: ArrayLike<number>, width: number, keep: 'last' | 'max'): LineColumns {
  const out: LineColumns = { time: [], value: [] };
  let k = -1;
  let last = Number.NaN;
  for (let i = 0; i < secs.length; i++) {
    const b = bucketStart(secs[i] as number, width);
    const v = values[i] as number;
    if (b !== last) {
      out.time.push(b);
      out.value.push(v);
      k++;
      last = b;
    } else if (keep === 'last' || v > (out.value[k] as number)) {
      out.value[k] = v;
    }
  }
  return out;
}
