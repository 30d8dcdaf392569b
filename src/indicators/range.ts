import { checkFinite, checkPeriod, IndicatorError, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of a {@link RollingRange}: the two monotonic deques as [sequence, value] pairs, front first. */
export interface RangeState {
  kind: 'range';
  period: number;
  count: number;
  maxDeque: [number, number][];
  minDeque: [number, number][];
}

/** A monotonic deque of (sequence, value) in preallocated rings of `capacity`. */
class MonotonicDeque {
  readonly #seq: Float64Array;
  readonly #val: Float64Array;
  readonly #cap: number;
  readonly #keepAbove: boolean;
  #head = 0;
  #size = 0;

  constructor(capacity: number, keepMax: boolean) {
    this.#cap = capacity;
    this.#seq = new Float64Array(capacity);
    this.#val = new Float64Array(capacity);
    this.#keepAbove = keepMax;
  }

  push(seq: number, value: number, window: number): void {
    if (this.#size > 0 && (this.#seq[this.#head] as number) <= seq - window) {
      this.#head = this.#head + 1 === this.#cap ? 0 : this.#head + 1;
      this.#size--;
    }
    while (this.#size > 0) {
      const back = (this.#head + this.#size - 1) % this.#cap;
      const v = this.#val[back] as number;
      if (this.#keepAbove ? v > value : v < value) break;
      this.#size--;
    }
    const at = (this.#head + this.#size) % this.#cap;
    this.#seq[at] = seq;
    this.#val[at] = value;
    this.#size++;
  }

  front(): number {
    return this.#size === 0 ? Number.NaN : (this.#val[this.#head] as number);
  }

  clear(): void {
    this.#head = 0;
    this.#size = 0;
  }

  toPairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.#size; i++) {
      const at = (this.#head + i) % this.#cap;
      out.push([this.#seq[at] as number, this.#val[at] as number]);
    }
    return out;
  }

  load(pairs: readonly (readonly [number, number])[]): void {
    this.#head = 0;
    this.#size = pairs.length;
    pairs.forEach(([s, v], i) => {
      this.#seq[i] = s;
      this.#val[i] = v;
    });
  }
}

/**
 * Rolling range: highest high minus lowest low over the last `period` bars (price units), O(1)
 * amortized per update with monotonic deques in preallocated ring buffers.
 */
export class RollingRange implements StreamingIndicator<RangeState> {
  readonly period: number;
  readonly #max: MonotonicDeque;
  readonly #min: MonotonicDeque;
  #count = 0;
  #value = Number.NaN;

  /** @throws IndicatorError InvalidParameter */
  constructor(period: number) {
    this.period = checkPeriod('RollingRange', period);
    this.#max = new MonotonicDeque(period, true);
    this.#min = new MonotonicDeque(period, false);
  }

  /** Adds one bar and returns highest high - lowest low of the window (NaN until ready). @throws IndicatorError InvalidInput */
  update(high: number, low: number): number {
    checkFinite('RollingRange', 'high', high);
    checkFinite('RollingRange', 'low', low);
    if (high < low) throw new IndicatorError('InvalidInput', `RollingRange: high ${high} is below low ${low}`);
    const seq = this.#count;
    this.#max.push(seq, high, this.period);
    this.#min.push(seq, low, this.period);
    this.#count++;
    if (this.#count < this.period) return Number.NaN;
    this.#value = this.#max.front() - this.#min.front();
    return this.#value;
  }

  get value(): number {
    return this.#value;
  }

  /** Highest high of the window so far. */
  get highest(): number {
    return this.#max.front();
  }

  /** Lowest low of the window so far. */
  get lowest(): number {
    return this.#min.front();
  }

  get isReady(): boolean {
    return this.#count >= this.period;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#max.clear();
    this.#min.clear();
    this.#count = 0;
    this.#value = Number.NaN;
  }

  snapshot(): RangeState {
    return { kind: 'range', period: this.period, count: this.#count, maxDeque: this.#max.toPairs(), minDeque: this.#min.toPairs() };
  }

  restore(state: RangeState): void {
    const r = new StateReader('RollingRange', state, 'range');
    r.same('period', this.period);
    const count = r.int('count');
    const check = (key: 'maxDeque' | 'minDeque', descending: boolean): [number, number][] => {
      const pairs = r.obj(key);
      if (!Array.isArray(pairs) || pairs.length > this.period || (count > 0 && pairs.length === 0)) r.fail(`${key} must be an array of 1..${this.period} pairs`);
      let prev: [number, number] | undefined;
      for (const p of pairs as unknown[]) {
        if (!Array.isArray(p) || p.length !== 2 || !Number.isInteger(p[0]) || !Number.isFinite(p[1])) r.fail(`${key} holds a bad pair ${JSON.stringify(p)}`);
        const [s, v] = p as [number, number];
        if (s < count - this.period || s >= count) r.fail(`${key} sequence ${s} is outside the window of count ${count}`);
        if (prev !== undefined && (s <= prev[0] || (descending ? v >= prev[1] : v <= prev[1]))) r.fail(`${key} is not monotonic`);
        prev = [s, v];
      }
      return pairs as [number, number][];
    };
    const maxPairs = check('maxDeque', true);
    const minPairs = check('minDeque', false);
    this.#max.load(maxPairs);
    this.#min.load(minPairs);
    this.#count = count;
    this.#value = count >= this.period ? this.#max.front() - this.#min.front() : Number.NaN;
  }
}
