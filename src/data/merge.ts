import { allocColumns } from './columns.js';
import type { BarColumns, MergedBatch } from './columns.js';
import type { Timeframe } from '../model/bar.js';

function i32(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/**
 * @internal K-way merge of one UTC day's batches (one per symbol) by open time, ties by symbol position; keys are
 * ns since the day start as float64 (exact: < 2^53), so the heap never compares bigints.
 */
export class DayMerge {
  readonly #k: number;
  readonly #srcs: (BarColumns | undefined)[];
  readonly #srcO: Int32Array[];
  readonly #srcC: Int32Array[];
  readonly #keys: Float64Array[];
  readonly #pos: Int32Array;
  readonly #hk: Float64Array;
  readonly #hs: Int32Array;
  #size = 0;

  constructor(k: number) {
    this.#k = k;
    this.#srcs = new Array<BarColumns | undefined>(k).fill(undefined);
    this.#srcO = new Array<Int32Array>(k).fill(new Int32Array(0));
    this.#srcC = new Array<Int32Array>(k).fill(new Int32Array(0));
    this.#keys = new Array<Float64Array>(k).fill(new Float64Array(0));
    this.#pos = new Int32Array(k);
    this.#hk = new Float64Array(k);
    this.#hs = new Int32Array(k);
  }

  /** Loads one day's batches (index = symbol position; undefined or empty = no bars that day) starting at `dayStart` ns. */
  start(loaded: readonly (BarColumns | undefined)[], dayStart: bigint): void {
    const hk = this.#hk;
    const hs = this.#hs;
    const dHi = Number(dayStart >> 32n);
    const dLo = Number(dayStart & 0xffffffffn);
    this.#size = 0;
    for (let j = 0; j < this.#k; j++) {
      const c = loaded[j];
      this.#srcs[j] = c;
      if (c === undefined || c.length === 0) continue;
      const o = i32(c.openTimeNs);
      this.#srcO[j] = o;
      this.#srcC[j] = i32(c.closeTimeNs);
      const kk = new Float64Array(c.length);
      // little-endian halves: exact because the result is below 2^53
      for (let i = 0; i < c.length; i++) kk[i] = ((o[2 * i + 1] as number) - dHi) * 4294967296 + ((o[2 * i] as number) >>> 0) - dLo;
      this.#keys[j] = kk;
      this.#pos[j] = 0;
      let at = this.#size++;
      const key = kk[0] as number;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        const pk = hk[parent] as number;
        if (pk < key || (pk === key && (hs[parent] as number) < j)) break;
        hk[at] = pk;
        hs[at] = hs[parent] as number;
        at = parent;
      }
      hk[at] = key;
      hs[at] = j;
    }
  }

  /** Moves bars into `out` from index `fill` until it is full or the day is done; returns the new fill. */
  fill(out: MergedBatch, fill: number): number {
    const hk = this.#hk;
    const hs = this.#hs;
    const pos = this.#pos;
    const cap = out.length;
    const oo = i32(out.openTimeNs);
    const oc = i32(out.closeTimeNs);
    const oSym = out.symbolIndex;
    const oOpen = out.open;
    const oHigh = out.high;
    const oLow = out.low;
    const oClose = out.close;
    const oVol = out.volume;
    let size = this.#size;
    while (size > 0 && fill < cap) {
      const j = hs[0] as number;
      const src = this.#srcs[j] as BarColumns;
      const p = pos[j] as number;
      const so = this.#srcO[j] as Int32Array;
      const sc = this.#srcC[j] as Int32Array;
      oSym[fill] = j;
      oo[2 * fill] = so[2 * p] as number;
      oo[2 * fill + 1] = so[2 * p + 1] as number;
      oc[2 * fill] = sc[2 * p] as number;
      oc[2 * fill + 1] = sc[2 * p + 1] as number;
      oOpen[fill] = src.open[p] as number;
      oHigh[fill] = src.high[p] as number;
      oLow[fill] = src.low[p] as number;
      oClose[fill] = src.close[p] as number;
      oVol[fill] = src.volume[p] as number;
      fill++;
      let key: number;
      let sym: number;
      if (p + 1 < src.length) {
        pos[j] = p + 1;
        key = (this.#keys[j] as Float64Array)[p + 1] as number;
        sym = j;
      } else {
        size--;
        if (size === 0) break;
        key = hk[size] as number;
        sym = hs[size] as number;
      }
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        let ck = hk[child] as number;
        let cs = hs[child] as number;
        const r = child + 1;
        if (r < size) {
          const rk = hk[r] as number;
          const rs = hs[r] as number;
          if (rk < ck || (rk === ck && rs < cs)) {
            child = r;
            ck = rk;
            cs = rs;
          }
        }
        if (key < ck || (key === ck && sym < cs)) break;
        hk[at] = ck;
        hs[at] = cs;
        at = child;
      }
      hk[at] = key;
      hs[at] = sym;
    }
    this.#size = size;
    return fill;
  }
}

/** @internal A fresh merged batch with room for `n` bars. */
export function newBatch(symbols: readonly string[], timeframes: readonly Timeframe[], n: number): MergedBatch {
  const c = allocColumns('', '1m', n);
  return {
    symbols,
    timeframes,
    length: n,
    symbolIndex: new Int32Array(n),
    openTimeNs: c.openTimeNs,
    closeTimeNs: c.closeTimeNs,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
  };
}

/** @internal The first `n` bars of a batch as views. */
export function trimBatch(b: MergedBatch, n: number): MergedBatch {
  return {
    symbols: b.symbols,
    timeframes: b.timeframes,
    length: n,
    symbolIndex: b.symbolIndex.subarray(0, n),
    openTimeNs: b.openTimeNs.subarray(0, n),
    closeTimeNs: b.closeTimeNs.subarray(0, n),
    open: b.open.subarray(0, n),
    high: b.high.subarray(0, n),
    low: b.low.subarray(0, n),
    close: b.close.subarray(0, n),
    volume: b.volume.subarray(0, n),
  };
}
