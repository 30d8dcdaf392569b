import { checkFinite, checkPeriod, enc, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of an {@link Rsi}. */
export interface RsiState {
  kind: 'rsi';
  period: number;
  count: number;
  prev: number | null;
  avgGain: number;
  avgLoss: number;
  value: number | null;
}

/** TA-Lib's TA_IS_ZERO (TA_EPSILON = 1e-14): a denominator this small gives RSI 0. */
function isZero(x: number): boolean {
  return x > -1e-14 && x < 1e-14;
}

/**
 * Relative strength index with Wilder smoothing, as TA-Lib: the first average gain/loss is the simple
 * mean of the first `period` changes, then avg = (avg * (period - 1) + change) / period; ready after
 * period + 1 inputs; 0 when |gain + loss| is below 1e-14 (TA_EPSILON).
 */
export class Rsi implements StreamingIndicator<RsiState> {
  readonly period: number;
  #count = 0;
  #prev = Number.NaN;
  #gain = 0;
  #loss = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('Rsi', period, 2);
  }

  /** Adds one close and returns RSI in [0, 100] (NaN until ready). @throws IndicatorError InvalidInput */
  update(x: number): number {
    checkFinite('Rsi', 'input', x);
    const n = this.period;
    this.#count++;
    if (this.#count === 1) {
      this.#prev = x;
      return Number.NaN;
    }
    const change = x - this.#prev;
    this.#prev = x;
    const changes = this.#count - 1;
    if (changes > n) {
      this.#loss *= n - 1;
      this.#gain *= n - 1;
    }
    if (change < 0) this.#loss -= change;
    else this.#gain += change;
    if (changes < n) return Number.NaN;
    this.#loss /= n;
    this.#gain /= n;
    const total = this.#gain + this.#loss;
    this.#value = isZero(total) ? 0 : 100.0 * (this.#gain / total);
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
    this.#prev = Number.NaN;
    this.#gain = 0;
    this.#loss = 0;
    this.#value = Number.NaN;
  }

  snapshot(): RsiState {
    return { kind: 'rsi', period: this.period, count: this.#count, prev: enc(this.#prev), avgGain: this.#gain, avgLoss: this.#loss, value: enc(this.#value) };
  }

  /** Float64 slots {@link pack} writes: count, prev, avgGain, avgLoss, value. */
  packedLength(): number {
    return 5;
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#prev;
    dst[at + 2] = this.#gain;
    dst[at + 3] = this.#loss;
    dst[at + 4] = this.#value;
    return at + 5;
  }

  /** The snapshot of an Rsi of `period` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number): RsiState {
    return { kind: 'rsi', period, count: packed[0] as number, prev: enc(packed[1] as number), avgGain: packed[2] as number, avgLoss: packed[3] as number, value: enc(packed[4] as number) };
  }

  restore(state: RsiState): void {
    const r = new StateReader('Rsi', state, 'rsi');
    r.same('period', this.period);
    const count = r.int('count');
    const prev = r.num('prev', count === 0);
    const gain = r.num('avgGain');
    const loss = r.num('avgLoss');
    const value = r.num('value', count <= this.period);
    this.#count = count;
    this.#prev = count === 0 ? Number.NaN : prev;
    this.#gain = gain;
    this.#loss = loss;
    this.#value = count > this.period ? value : Number.NaN;
  }
}
