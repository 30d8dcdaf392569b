import { checkFinite, checkPeriod, enc, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';
import { packRing } from './ring.js';

/** Snapshot of an {@link Sma}. */
export interface SmaState {
  kind: 'sma';
  period: number;
  count: number;
  /** running sum of the last period-1 inputs, in TA-Lib's accumulation order */
  partial: number;
  /** the last min(count, period) inputs, oldest first */
  window: number[];
  value: number | null;
}

/**
 * Simple moving average over `period` inputs, O(1) per update. The running sum is kept exactly as
 * TA-Lib keeps it (add the new value, divide, subtract the oldest), so the output is bit-identical.
 */
export class Sma implements StreamingIndicator<SmaState> {
  readonly period: number;
  readonly #ring: Float64Array;
  #pos = 0;
  #count = 0;
  #partial = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('Sma', period);
    this.#ring = new Float64Array(period);
  }

  /** Adds one input and returns the average of the last `period` inputs (NaN until ready). @throws IndicatorError InvalidInput */
  update(x: number): number {
    checkFinite('Sma', 'input', x);
    const n = this.period;
    this.#partial += x;
    this.#ring[this.#pos] = x;
    this.#pos = this.#pos + 1 === n ? 0 : this.#pos + 1;
    this.#count++;
    if (this.#count < n) return Number.NaN;
    this.#value = this.#partial / n;
    this.#partial -= this.#ring[this.#pos] as number;
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
    this.#ring.fill(0);
    this.#pos = 0;
    this.#count = 0;
    this.#partial = 0;
    this.#value = Number.NaN;
  }

  snapshot(): SmaState {
    const len = Math.min(this.#count, this.period);
    const window: number[] = [];
    const start = len === this.period ? this.#pos : 0;
    for (let i = 0; i < len; i++) window.push(this.#ring[(start + i) % this.period] as number);
    return { kind: 'sma', period: this.period, count: this.#count, partial: this.#partial, window, value: enc(this.#value) };
  }

  /** Float64 slots {@link pack} writes: count, partial, value, then the window oldest first. */
  packedLength(): number {
    return 3 + Math.min(this.#count, this.period);
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#partial;
    dst[at + 2] = this.#value;
    at += 3;
    return packRing(this.#ring, this.#pos, this.#count, this.period, dst, at);
  }

  /** Writes only the slots of {@link pack} before the window (count, partial, value); returns the next offset. */
  packHead(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#partial;
    dst[at + 2] = this.#value;
    return at + 3;
  }

  /** The snapshot of an Sma of `period` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number): SmaState {
    return { kind: 'sma', period, count: packed[0] as number, partial: packed[1] as number, window: Array.from(packed.subarray(3)), value: enc(packed[2] as number) };
  }

  restore(state: SmaState): void {
    const r = new StateReader('Sma', state, 'sma');
    r.same('period', this.period);
    const count = r.int('count');
    const window = r.nums('window', Math.min(count, this.period));
    const partial = r.num('partial');
    const value = r.num('value', count < this.period);
    this.#ring.fill(0);
    window.forEach((x, i) => (this.#ring[i] = x));
    this.#pos = window.length % this.period;
    this.#count = count;
    this.#partial = partial;
    this.#value = count >= this.period ? value : Number.NaN;
  }
}

