import { checkFinite, checkPeriod, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';
import { packRing } from './ring.js';

/** Snapshot of a {@link Slope}. */
export interface SlopeState {
  kind: 'slope';
  period: number;
  count: number;
  /** the last min(count, period) inputs, oldest first */
  window: number[];
  sumY: number;
  sumXY: number;
}

/**
 * Rolling least-squares slope of the last `period` inputs against x = 0..period-1 (input units per
 * bar; TA-Lib's LINEARREG_SLOPE), O(1) per update from running sums of y and x*y. The sums are
 * rebuilt from the ring buffer once every `period` updates (amortized O(1)) so float drift never
 * accumulates over a long stream.
 */
export class Slope implements StreamingIndicator<SlopeState> {
  readonly period: number;
  readonly #ring: Float64Array;
  readonly #sumX: number;
  readonly #divisor: number;
  #pos = 0;
  #count = 0;
  #sumY = 0;
  #sumXY = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('Slope', period, 2);
    this.#ring = new Float64Array(period);
    const n = period;
    this.#sumX = (n * (n - 1)) / 2;
    const sumXX = ((n - 1) * n * (2 * n - 1)) / 6;
    this.#divisor = n * sumXX - this.#sumX * this.#sumX;
  }

  /** Adds one input and returns the slope per bar (NaN until ready). @throws IndicatorError InvalidInput */
  update(y: number): number {
    checkFinite('Slope', 'input', y);
    const n = this.period;
    if (this.#count < n) {
      this.#sumXY += this.#count * y;
      this.#sumY += y;
      this.#ring[this.#pos] = y;
      this.#pos = this.#pos + 1 === n ? 0 : this.#pos + 1;
      this.#count++;
      if (this.#count < n) return Number.NaN;
    } else {
      const oldest = this.#ring[this.#pos] as number;
      this.#sumXY = this.#sumXY - (this.#sumY - oldest) + (n - 1) * y;
      this.#sumY = this.#sumY - oldest + y;
      this.#ring[this.#pos] = y;
      this.#pos = this.#pos + 1 === n ? 0 : this.#pos + 1;
      this.#count++;
      if (this.#count % n === 0) this.#resync();
    }
    this.#value = (n * this.#sumXY - this.#sumX * this.#sumY) / this.#divisor;
    return this.#value;
  }

  #resync(): void {
    let sy = 0;
    let sxy = 0;
    for (let i = 0; i < this.period; i++) {
      const y = this.#ring[(this.#pos + i) % this.period] as number;
      sy += y;
      sxy += i * y;
    }
    this.#sumY = sy;
    this.#sumXY = sxy;
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
    this.#sumY = 0;
    this.#sumXY = 0;
    this.#value = Number.NaN;
  }

  snapshot(): SlopeState {
    const len = Math.min(this.#count, this.period);
    const start = len === this.period ? this.#pos : 0;
    const window: number[] = [];
    for (let i = 0; i < len; i++) window.push(this.#ring[(start + i) % this.period] as number);
    return { kind: 'slope', period: this.period, count: this.#count, window, sumY: this.#sumY, sumXY: this.#sumXY };
  }

  /** Float64 slots {@link pack} writes: count, sumY, sumXY, then the window oldest first. */
  packedLength(): number {
    return 3 + Math.min(this.#count, this.period);
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#sumY;
    dst[at + 2] = this.#sumXY;
    at += 3;
    return packRing(this.#ring, this.#pos, this.#count, this.period, dst, at);
  }

  /** Writes only the slots of {@link pack} before the window; returns the next offset. */
  packHead(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#sumY;
    dst[at + 2] = this.#sumXY;
    return at + 3;
  }

  /** The snapshot of a Slope of `period` that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array, period: number): SlopeState {
    return { kind: 'slope', period, count: packed[0] as number, window: Array.from(packed.subarray(3)), sumY: packed[1] as number, sumXY: packed[2] as number };
  }

  restore(state: SlopeState): void {
    const r = new StateReader('Slope', state, 'slope');
    r.same('period', this.period);
    const count = r.int('count');
    const window = r.nums('window', Math.min(count, this.period));
    const sy = r.num('sumY');
    const sxy = r.num('sumXY');
    this.#ring.fill(0);
    window.forEach((x, i) => (this.#ring[i] = x));
    this.#pos = window.length % this.period;
    this.#count = count;
    this.#sumY = sy;
    this.#sumXY = sxy;
    const n = this.period;
    this.#value = count >= n ? (n * sxy - this.#sumX * sy) / this.#divisor : Number.NaN;
  }
}
