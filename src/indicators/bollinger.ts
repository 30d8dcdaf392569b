import { checkFinite, checkPeriod, enc, IndicatorError, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';
import { packRing } from './ring.js';

/** Snapshot of a {@link Bollinger}. */
export interface BollingerState {
  kind: 'bollinger';
  period: number;
  stdDevs: number;
  count: number;
  partial: number;
  partialSquares: number;
  /** the last min(count, period) inputs, oldest first */
  window: number[];
  middle: number | null;
  stdDev: number | null;
}

/**
 * Bollinger bands: middle = SMA(period), upper/lower = middle +/- stdDevs * population standard
 * deviation, computed as TA-Lib does (running sums of x and x^2; a variance below 1e-14, TA_EPSILON, gives 0).
 * `value` and `update` return the middle band.
 */
export class Bollinger implements StreamingIndicator<BollingerState> {
  readonly period: number;
  readonly stdDevs: number;
  readonly #ring: Float64Array;
  #pos = 0;
  #count = 0;
  #partial = 0;
  #partialSquares = 0;
  #middle = Number.NaN;
  #std = Number.NaN;
  #upper = Number.NaN;
  #lower = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period = 20, stdDevs = 2) {
    this.period = checkPeriod('Bollinger', period, 2);
    if (!Number.isFinite(stdDevs) || stdDevs < 0) throw new IndicatorError('InvalidParameter', `Bollinger: stdDevs must be a finite number >= 0, got ${stdDevs}`);
    this.stdDevs = stdDevs;
    this.#ring = new Float64Array(period);
  }

  /** Adds one input and returns the middle band (NaN until ready). @throws IndicatorError InvalidInput */
  update(x: number): number {
    checkFinite('Bollinger', 'input', x);
    const n = this.period;
    this.#partial += x;
    this.#partialSquares += x * x;
    this.#ring[this.#pos] = x;
    this.#pos = this.#pos + 1 === n ? 0 : this.#pos + 1;
    this.#count++;
    if (this.#count < n) return Number.NaN;
    const mean = this.#partial / n;
    let variance = this.#partialSquares / n;
    const oldest = this.#ring[this.#pos] as number;
    this.#partial -= oldest;
    this.#partialSquares -= oldest * oldest;
    variance -= mean * mean;
    const std = variance < 1e-14 ? 0 : Math.sqrt(variance);
    const width = std * this.stdDevs;
    this.#middle = mean;
    this.#std = std;
    this.#upper = mean + width;
    this.#lower = mean - width;
    return mean;
  }

  get value(): number {
    return this.#middle;
  }

  /** Middle band (the SMA). */
  get middle(): number {
    return this.#middle;
  }

  /** Upper band. */
  get upper(): number {
    return this.#upper;
  }

  /** Lower band. */
  get lower(): number {
    return this.#lower;
  }

  /** Population standard deviation of the window. */
  get stdDev(): number {
    return this.#std;
  }

  get isReady(): boolean {
    return this.#count >= this.period;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#ring.fill(0);
    this.#pos = 0;
    this.#count = 0;
    this.#partial = 0;
    this.#partialSquares = 0;
    this.#middle = this.#std = this.#upper = this.#lower = Number.NaN;
  }

  snapshot(): BollingerState {
    const len = Math.min(this.#count, this.period);
    const start = len === this.period ? this.#pos : 0;
    const window: number[] = [];
    for (let i = 0; i < len; i++) window.push(this.#ring[(start + i) % this.period] as number);
    return {
      kind: 'bollinger',
      period: this.period,
      stdDevs: this.stdDevs,
      count: this.#count,
      partial: this.#partial,
      partialSquares: this.#partialSquares,
      window,
      middle: enc(this.#middle),
      stdDev: enc(this.#std),
    };
  }

  /** Float64 slots {@link pack} writes: count, partial, partialSquares, middle, stdDev, then the window oldest first. */
  packedLength(): number {
    return 5 + Math.min(this.#count, this.period);
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#partial;
    dst[at + 2] = this.#partialSquares;
    dst[at + 3] = this.#middle;
    dst[at + 4] = this.#std;
    at += 5;
    return packRing(this.#ring, this.#pos, this.#count, this.period, dst, at);
  }

  /** Writes only the slots of {@link pack} before the window; returns the next offset. */
  packHead(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#partial;
    dst[at + 2] = this.#partialSquares;
    dst[at + 3] = this.#middle;
    dst[at + 4] = this.#std;
    return at + 5;
  }

  /** The snapshot of a Bollinger of `period` and `stdDevs` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number, stdDevs: number): BollingerState {
    return {
      kind: 'bollinger',
      period,
      stdDevs,
      count: packed[0] as number,
      partial: packed[1] as number,
      partialSquares: packed[2] as number,
      window: Array.from(packed.subarray(5)),
      middle: enc(packed[3] as number),
      stdDev: enc(packed[4] as number),
    };
  }

  restore(state: BollingerState): void {
    const r = new StateReader('Bollinger', state, 'bollinger');
    r.same('period', this.period);
    r.same('stdDevs', this.stdDevs);
    const count = r.int('count');
    const window = r.nums('window', Math.min(count, this.period));
    const partial = r.num('partial');
    const partialSquares = r.num('partialSquares');
    const ready = count >= this.period;
    const middle = r.num('middle', !ready);
    const std = r.num('stdDev', !ready);
    this.#ring.fill(0);
    window.forEach((x, i) => (this.#ring[i] = x));
    this.#pos = window.length % this.period;
    this.#count = count;
    this.#partial = partial;
    this.#partialSquares = partialSquares;
    if (ready) {
      this.#middle = middle;
      this.#std = std;
      const width = std * this.stdDevs;
      this.#upper = middle + width;
      this.#lower = middle - width;
    } else {
      this.#middle = this.#std = this.#upper = this.#lower = Number.NaN;
    }
  }
}
