import type { Bar, Timeframe } from '../model/bar.js';
import { DataError } from './errors.js';

/** One symbol's bars as columns (times in epoch ns, prices in quote currency, volume in base units). */
export interface BarColumns {
  symbol: string;
  timeframe: Timeframe;
  length: number;
  openTimeNs: BigInt64Array;
  closeTimeNs: BigInt64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** Bars of many symbols in one time-ordered batch; `symbolIndex[i]` indexes `symbols` and `timeframes`. */
export interface MergedBatch {
  symbols: readonly string[];
  timeframes: readonly Timeframe[];
  length: number;
  symbolIndex: Int32Array;
  openTimeNs: BigInt64Array;
  closeTimeNs: BigInt64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** Allocates zeroed columns with room for `length` bars. */
export function allocColumns(symbol: string, timeframe: Timeframe, length: number): BarColumns {
  return {
    symbol,
    timeframe,
    length,
    openTimeNs: new BigInt64Array(length),
    closeTimeNs: new BigInt64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** Bars `[start, end)` of `cols` as views (no copy). */
export function sliceColumns(cols: BarColumns, start: number, end: number): BarColumns {
  return {
    symbol: cols.symbol,
    timeframe: cols.timeframe,
    length: end - start,
    openTimeNs: cols.openTimeNs.subarray(start, end),
    closeTimeNs: cols.closeTimeNs.subarray(start, end),
    open: cols.open.subarray(start, end),
    high: cols.high.subarray(start, end),
    low: cols.low.subarray(start, end),
    close: cols.close.subarray(start, end),
    volume: cols.volume.subarray(start, end),
  };
}

/** Concatenates batches of one symbol and timeframe into fresh columns. */
export function concatColumns(parts: readonly BarColumns[]): BarColumns {
  const first = parts[0];
  if (first === undefined) throw new DataError('InvalidInput', 'concatColumns needs at least one batch');
  let n = 0;
  for (const p of parts) n += p.length;
  const out = allocColumns(first.symbol, first.timeframe, n);
  let at = 0;
  for (const p of parts) {
    out.openTimeNs.set(p.openTimeNs.subarray(0, p.length), at);
    out.closeTimeNs.set(p.closeTimeNs.subarray(0, p.length), at);
    out.open.set(p.open.subarray(0, p.length), at);
    out.high.set(p.high.subarray(0, p.length), at);
    out.low.set(p.low.subarray(0, p.length), at);
    out.close.set(p.close.subarray(0, p.length), at);
    out.volume.set(p.volume.subarray(0, p.length), at);
    at += p.length;
  }
  return out;
}

/** Builds columns from bar objects (tests and slow paths); all bars must share symbol and timeframe. @throws DataError InvalidInput */
export function columnsFromBars(bars: readonly Bar[]): BarColumns {
  const first = bars[0];
  if (first === undefined) throw new DataError('InvalidInput', 'columnsFromBars needs at least one bar');
  const out = allocColumns(first.symbol, first.timeframe, bars.length);
  bars.forEach((b, i) => {
    if (b.symbol !== first.symbol || b.timeframe !== first.timeframe) {
      throw new DataError('InvalidInput', `bar ${i} is ${b.symbol}/${b.timeframe}, expected ${first.symbol}/${first.timeframe}`);
    }
    out.openTimeNs[i] = b.openTimeNs;
    out.closeTimeNs[i] = b.closeTimeNs;
    out.open[i] = b.open;
    out.high[i] = b.high;
    out.low[i] = b.low;
    out.close[i] = b.close;
    out.volume[i] = b.volume;
  });
  return out;
}

/** Bar `i` of a single-symbol or merged batch as a frozen object (tests and slow paths only). */
export function toBar(batch: BarColumns | MergedBatch, i: number): Bar {
  if (!Number.isInteger(i) || i < 0 || i >= batch.length) throw new DataError('InvalidInput', `bar index ${i} is outside 0..${batch.length - 1}`);
  let symbol: string;
  let timeframe: Timeframe;
  if ('symbolIndex' in batch) {
    const k = batch.symbolIndex[i] as number;
    symbol = batch.symbols[k] as string;
    timeframe = batch.timeframes[k] as Timeframe;
  } else {
    symbol = batch.symbol;
    timeframe = batch.timeframe;
  }
  return Object.freeze({
    symbol,
    timeframe,
    openTimeNs: batch.openTimeNs[i] as bigint,
    closeTimeNs: batch.closeTimeNs[i] as bigint,
    open: batch.open[i] as number,
    high: batch.high[i] as number,
    low: batch.low[i] as number,
    close: batch.close[i] as number,
    volume: batch.volume[i] as number,
  });
}
