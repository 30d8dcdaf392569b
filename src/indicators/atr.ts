import { checkFinite, checkPeriod, enc, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of an {@link Atr}. */
export interface AtrState {
  kind: 'atr';
  period: number;
  count: number;
  prevClose: number | null;
  seedSum: number;
  value: number | null;
}

/**
 * Average true range with Wilder smoothing, as TA-Lib: true range needs the previous close, the first
 * ATR is the mean of the first `period` true ranges, then atr = (atr * (period - 1) + tr) / period;
 * ready after period + 1 bars.
 */
export class Atr implements StreamingIndicator<AtrState> {
  readonly period: number;
  #count = 0;
  #prevClose = Number.NaN;
  #seedSum = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('Atr', period);
  }

  /** Adds one bar and returns the ATR in price units (NaN until ready). @throws IndicatorError InvalidInput */
  update(high: number, low: number, close: number): number {
    checkFinite('Atr', 'high', high);
    checkFinite('Atr', 'low', low);
    checkFinite('Atr', 'close', close);
    const n = this.period;
    this.#count++;
    const prevClose = this.#prevClose;
    this.#prevClose = close;
    if (this.#count === 1) return Number.NaN;
    let tr = high - low;
    const up = Math.abs(prevClose - high);
    if (up > tr) tr = up;
    const down = Math.abs(low - prevClose);
    if (down > tr) tr = down;
    const ranges = this.#count - 1;
    if (ranges > n) {
      let v = this.#value * (n - 1);
      v += tr;
      this.#value = v / n;
    } else {
      this.#seedSum += tr;
      if (ranges === n) this.#value = this.#seedSum / n;
    }
    return this.#value;
  }

  get value(): number {
    return this.#value;
  }

  get isReady(): boolean {
    return this.#count > this.period;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#count = 0;
    this.#prevClose = Number.NaN;
    this.#seedSum = 0;
    this.#value = Number.NaN;
  }

  snapshot(): AtrState {
    return { kind: 'atr', period: this.period, count: this.#count, prevClose: enc(this.#prevClose), seedSum: this.#seedSum, value: enc(this.#value) };
  }

  /** Float64 slots {@link pack} writes: count, prevClose, seedSum, value. */
  packedLength(): number {
    return 4;
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#prevClose;
    dst[at + 2] = this.#seedSum;
    dst[at + 3] = this.#value;
    return at + 4;
  }

  /** The snapshot of an Atr of `period` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number): AtrState {
    return { kind: 'atr', period, count: packed[0] as number, prevClose: enc(packed[1] as number), seedSum: packed[2] as number, value: enc(packed[3] as number) };
  }

  restore(state: AtrState): void {
    const r = new StateReader('Atr', state, 'atr');
    r.same('period', this.period);
    const count = r.int('count');
    const prevClose = r.num('prevClose', count === 0);
    const seedSum = r.num('seedSum');
    const value = r.num('value', count <= this.period);
    this.#count = count;
    this.#prevClose = count === 0 ? Number.NaN : prevClose;
    this.#seedSum = seedSum;
    this.#value = count > this.period ? value : Number.NaN;
  }
}
