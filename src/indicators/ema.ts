import { checkFinite, checkPeriod, enc, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of an {@link Ema}. */
export interface EmaState {
  kind: 'ema';
  period: number;
  count: number;
  /** sum of the first inputs while seeding */
  seedSum: number;
  value: number | null;
}

/**
 * Exponential moving average with k = 2 / (period + 1), seeded (as TA-Lib) with the simple average
 * of the first `period` inputs; ready after `period` inputs.
 */
export class Ema implements StreamingIndicator<EmaState> {
  readonly period: number;
  readonly k: number;
  #count = 0;
  #seedSum = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('Ema', period);
    this.k = 2.0 / (period + 1);
  }

  /** Adds one input and returns the average (NaN until ready). @throws IndicatorError InvalidInput */
  update(x: number): number {
    checkFinite('Ema', 'input', x);
    this.#count++;
    if (this.#count > this.period) {
      this.#value = (x - this.#value) * this.k + this.#value;
      return this.#value;
    }
    this.#seedSum += x;
    if (this.#count === this.period) this.#value = this.#seedSum / this.period;
    return this.#value;
  }

  get value(): number {
    return this.#value;
  }

  get isReady(): boolean {
    return this.#count >= this.period;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#count = 0;
    this.#seedSum = 0;
    this.#value = Number.NaN;
  }

  snapshot(): EmaState {
    return { kind: 'ema', period: this.period, count: this.#count, seedSum: this.#seedSum, value: enc(this.#value) };
  }

  /** Float64 slots {@link pack} writes: count, seedSum, value. */
  packedLength(): number {
    return 3;
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#seedSum;
    dst[at + 2] = this.#value;
    return at + 3;
  }

  /** The snapshot of an Ema of `period` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number): EmaState {
    return { kind: 'ema', period, count: packed[0] as number, seedSum: packed[1] as number, value: enc(packed[2] as number) };
  }

  restore(state: EmaState): void {
    const r = new StateReader('Ema', state, 'ema');
    r.same('period', this.period);
    const count = r.int('count');
    const seedSum = r.num('seedSum');
    const value = r.num('value', count < this.period);
    this.#count = count;
    this.#seedSum = seedSum;
    this.#value = count >= this.period ? value : Number.NaN;
  }
}
