import { checkFinite, checkPeriod, IndicatorError, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';
import { packRing } from './ring.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** Snapshot of an {@link ExactSma}: raw integers as decimal strings so bigint sums survive JSON. */
export interface ExactSmaState {
  kind: 'exact-sma';
  period: number;
  precision: number;
  count: number;
  /** exact window sum of raw integers */
  sum: string;
  /** the last min(count, period) raw inputs, oldest first */
  window: number[];
}

/**
 * Converts a price to its exact scaled integer price * 10^precision.
 * @throws IndicatorError InvalidInput when the price has more decimals than `precision` or does not fit 2^53
 */
export function priceToRaw(price: number, precision: number): number {
  const scale = POW10[precision] as number;
  const raw = Math.round(price * scale);
  // raw / scale is correctly rounded, so it equals the parsed decimal exactly when price has <= precision decimals
  if (!Number.isSafeInteger(raw) || raw / scale !== price) {
    throw new IndicatorError('InvalidInput', `price ${price} is not an exact multiple of 1e-${precision} within 2^53`);
  }
  return raw;
}

/**
 * Simple moving average over exact integer-scaled prices (price * 10^precision): the window sum is an
 * exact integer (a float while below 2^53, a bigint beyond), so comparisons with {@link compareSma}
 * are exact and equal averages compare as a tie.
 */
export class ExactSma implements StreamingIndicator<ExactSmaState> {
  readonly period: number;
  readonly precision: number;
  readonly #scale: number;
  readonly #ring: Float64Array;
  #pos = 0;
  #count = 0;
  #sum = 0;
  #bigSum: bigint | null = null;

  /** @throws IndicatorError InvalidParameter when period < 1 or precision is not an integer in [0, 15] */
  constructor(period: number, precision: number) {
    this.period = checkPeriod('ExactSma', period);
    if (!Number.isInteger(precision) || precision < 0 || precision > 15) {
      throw new IndicatorError('InvalidParameter', `ExactSma: precision must be an integer in [0, 15], got ${precision}`);
    }
    this.precision = precision;
    this.#scale = POW10[precision] as number;
    this.#ring = new Float64Array(period);
  }

  /** Adds one price (at most `precision` decimals); returns the float average for display (NaN until ready). @throws IndicatorError InvalidInput */
  update(price: number): number {
    checkFinite('ExactSma', 'price', price);
    this.updateRaw(priceToRaw(price, this.precision));
    return this.value;
  }

  /** Adds one raw scaled integer (price * 10^precision). @throws IndicatorError InvalidInput */
  updateRaw(raw: number): void {
    if (!Number.isSafeInteger(raw)) throw new IndicatorError('InvalidInput', `ExactSma: raw price must be a safe integer, got ${raw}`);
    const full = this.#count >= this.period;
    const oldest = full ? (this.#ring[this.#pos] as number) : 0;
    if (this.#bigSum === null) {
      const added = this.#sum + raw;
      const next = added - oldest;
      if (Number.isSafeInteger(added) && Number.isSafeInteger(next)) this.#sum = next;
      else this.#bigSum = BigInt(this.#sum) + BigInt(raw) - BigInt(oldest);
    } else {
      const next = this.#bigSum + BigInt(raw) - BigInt(oldest);
      if (next >= -9007199254740991n && next <= 9007199254740991n) {
        this.#sum = Number(next);
        this.#bigSum = null;
      } else this.#bigSum = next;
    }
    this.#ring[this.#pos] = raw;
    this.#pos = this.#pos + 1 === this.period ? 0 : this.#pos + 1;
    this.#count++;
  }

  /** The float average in price units (for display; compare with {@link compareSma}); NaN until ready. */
  get value(): number {
    if (this.#count < this.period) return Number.NaN;
    return (this.#bigSum === null ? this.#sum : Number(this.#bigSum)) / this.period / this.#scale;
  }

  /** The exact window sum of raw integers. */
  get sumRaw(): bigint {
    return this.#bigSum ?? BigInt(this.#sum);
  }

  /** The window sum as a float when it is an exact safe integer, else NaN (use `sumRaw`). */
  get sumNumber(): number {
    return this.#bigSum === null ? this.#sum : Number.NaN;
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
    this.#sum = 0;
    this.#bigSum = null;
  }

  snapshot(): ExactSmaState {
    const len = Math.min(this.#count, this.period);
    const start = len === this.period ? this.#pos : 0;
    const window: number[] = [];
    for (let i = 0; i < len; i++) window.push(this.#ring[(start + i) % this.period] as number);
    return { kind: 'exact-sma', period: this.period, precision: this.precision, count: this.#count, sum: this.sumRaw.toString(), window };
  }

  /** Float64 slots {@link pack} writes: count, then the window's raw integers oldest first (the sum is their sum). */
  packedLength(): number {
    return 1 + Math.min(this.#count, this.period);
  }

  /** Writes count and window at `dst[at]` onward without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at] = this.#count;
    return packRing(this.#ring, this.#pos, this.#count, this.period, dst, at + 1);
  }

  /**
   * The snapshot of an ExactSma that {@link pack} wrote at `packed[at]`, and the offset after it.
   * @throws IndicatorError InvalidState when the slots are cut or hold no count
   */
  static unpack(packed: Float64Array, at: number, period: number, precision: number): { state: ExactSmaState; next: number } {
    const count = packed[at];
    if (count === undefined || !Number.isSafeInteger(count) || count < 0) throw new IndicatorError('InvalidState', `ExactSma unpack: count slot ${at} is damaged`);
    const len = Math.min(count, period);
    if (at + 1 + len > packed.length) throw new IndicatorError('InvalidState', `ExactSma unpack: window of ${len} is cut at slot ${packed.length}`);
    const window = Array.from(packed.subarray(at + 1, at + 1 + len));
    let sum = 0n;
    for (const x of window) {
      if (!Number.isSafeInteger(x)) throw new IndicatorError('InvalidState', `ExactSma unpack: window holds a non-integer raw price ${x}`);
      sum += BigInt(x);
    }
    return { state: { kind: 'exact-sma', period, precision, count, sum: sum.toString(), window }, next: at + 1 + len };
  }

  restore(state: ExactSmaState): void {
    const r = new StateReader('ExactSma', state, 'exact-sma');
    r.same('period', this.period);
    r.same('precision', this.precision);
    const count = r.int('count');
    const window = r.nums('window', Math.min(count, this.period));
    for (const x of window) if (!Number.isSafeInteger(x)) r.fail(`window holds a non-integer raw price ${x}`);
    const sumText = r.obj('sum');
    if (typeof sumText !== 'string' || !/^-?\d+$/.test(sumText)) r.fail(`sum must be an integer string, got ${JSON.stringify(sumText)}`);
    const sum = BigInt(sumText as string);
    let check = 0n;
    for (const x of window) check += BigInt(x);
    if (check !== sum) r.fail(`sum ${sum} does not equal the window's sum ${check}`);
    this.#ring.fill(0);
    window.forEach((x, i) => (this.#ring[i] = x));
    this.#pos = window.length % this.period;
    this.#count = count;
    const safe = sum >= -9007199254740991n && sum <= 9007199254740991n;
    this.#sum = safe ? Number(sum) : 0;
    this.#bigSum = safe ? null : sum;
  }
}

/**
 * Exact sign of mean(a) - mean(b) (-1, 0 or 1), comparing sum_a * n_b with sum_b * n_a as integers.
 * @throws IndicatorError PrecisionMismatch when the precisions differ; InvalidState when one is not ready
 */
export function compareSma(a: ExactSma, b: ExactSma): -1 | 0 | 1 {
  if (a.precision !== b.precision) throw new IndicatorError('PrecisionMismatch', `compareSma: precisions differ (${a.precision} vs ${b.precision})`);
  if (!a.isReady || !b.isReady) throw new IndicatorError('InvalidState', `compareSma: both averages must be ready (counts ${a.count}/${a.period}, ${b.count}/${b.period})`);
  const sa = a.sumNumber;
  const sb = b.sumNumber;
  const left = sa * b.period;
  const right = sb * a.period;
  // float products of integers are exact while the true product is within 2^53
  if (Math.abs(left) <= MAX_SAFE && Math.abs(right) <= MAX_SAFE) return left < right ? -1 : left > right ? 1 : 0;
  const bl = a.sumRaw * BigInt(b.period);
  const br = b.sumRaw * BigInt(a.period);
  return bl < br ? -1 : bl > br ? 1 : 0;
}

/** 1 = fast crossed above slow, -1 = crossed below, 0 = no cross. */
export type CrossDirection = -1 | 0 | 1;

/** Snapshot of a {@link CrossDetector}. */
export interface CrossDetectorState {
  kind: 'cross';
  fast: ExactSmaState;
  slow: ExactSmaState;
  /** last exact comparison fast vs slow, or null before both were ready */
  relation: -1 | 0 | 1 | null;
}

/**
 * Exact SMA crossover detector: cross up at t when fast[t-1] <= slow[t-1] and fast[t] > slow[t]
 * (down mirrors it), with both averages compared exactly so a tie is a tie.
 */
export class CrossDetector {
  readonly fast: ExactSma;
  readonly slow: ExactSma;
  readonly precision: number;
  #relation: -1 | 0 | 1 | null = null;

  /** @throws IndicatorError InvalidParameter */
  constructor(fastPeriod: number, slowPeriod: number, precision: number) {
    this.fast = new ExactSma(fastPeriod, precision);
    this.slow = new ExactSma(slowPeriod, precision);
    this.precision = precision;
  }

  /** Adds one price to both averages and returns the cross at this bar. @throws IndicatorError InvalidInput */
  update(price: number): CrossDirection {
    checkFinite('CrossDetector', 'price', price);
    return this.updateRaw(priceToRaw(price, this.precision));
  }

  /** Adds one raw scaled integer price and returns the cross at this bar. @throws IndicatorError InvalidInput */
  updateRaw(raw: number): CrossDirection {
    if (!Number.isSafeInteger(raw)) throw new IndicatorError('InvalidInput', `CrossDetector: raw price must be a safe integer, got ${raw}`);
    this.fast.updateRaw(raw);
    this.slow.updateRaw(raw);
    if (!this.fast.isReady || !this.slow.isReady) return 0;
    const prev = this.#relation;
    const now = compareSma(this.fast, this.slow);
    this.#relation = now;
    if (prev === null) return 0;
    if (prev <= 0 && now > 0) return 1;
    if (prev >= 0 && now < 0) return -1;
    return 0;
  }

  /** Last exact comparison of fast vs slow (-1, 0, 1), or null before both were ready. */
  get relation(): -1 | 0 | 1 | null {
    return this.#relation;
  }

  /** Forgets every input. */
  reset(): void {
    this.fast.reset();
    this.slow.reset();
    this.#relation = null;
  }

  /** A plain JSON-serializable copy of the state. */
  snapshot(): CrossDetectorState {
    return { kind: 'cross', fast: this.fast.snapshot(), slow: this.slow.snapshot(), relation: this.#relation };
  }

  /** Float64 slots {@link pack} writes: the relation (NaN for null), then the fast and the slow average's slots. */
  packedLength(): number {
    return 1 + this.fast.packedLength() + this.slow.packedLength();
  }

  /** Writes the state as float64 slots at `dst[at]` onward without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at] = this.#relation ?? Number.NaN;
    return this.slow.pack(dst, this.fast.pack(dst, at + 1));
  }

  /** Writes the relation and the two window counts (what {@link pack} writes without the windows); returns the next offset. */
  packHead(dst: Float64Array, at: number): number {
    dst[at] = this.#relation ?? Number.NaN;
    dst[at + 1] = this.fast.count;
    dst[at + 2] = this.slow.count;
    return at + 3;
  }

  /**
   * The snapshot of a CrossDetector that {@link pack} wrote as `packed` (exactly its slots).
   * @throws IndicatorError InvalidState when the slots are damaged, cut or left over
   */
  static unpack(packed: Float64Array, fastPeriod: number, slowPeriod: number, precision: number): CrossDetectorState {
    const rel = packed[0];
    if (rel === undefined || !(Number.isNaN(rel) || rel === -1 || rel === 0 || rel === 1)) throw new IndicatorError('InvalidState', 'CrossDetector unpack: relation slot is damaged');
    const fast = ExactSma.unpack(packed, 1, fastPeriod, precision);
    const slow = ExactSma.unpack(packed, fast.next, slowPeriod, precision);
    if (slow.next !== packed.length) throw new IndicatorError('InvalidState', `CrossDetector unpack: ${packed.length - slow.next} slots left over`);
    return { kind: 'cross', fast: fast.state, slow: slow.state, relation: Number.isNaN(rel) ? null : (rel as -1 | 0 | 1) };
  }

  /** Replaces the state with a snapshot. @throws IndicatorError InvalidState */
  restore(state: CrossDetectorState): void {
    const r = new StateReader('CrossDetector', state, 'cross');
    const relation = r.obj('relation');
    if (relation !== null && relation !== -1 && relation !== 0 && relation !== 1) r.fail(`relation must be -1, 0, 1 or null, got ${JSON.stringify(relation)}`);
    const fast = new ExactSma(this.fast.period, this.precision);
    const slow = new ExactSma(this.slow.period, this.precision);
    fast.restore(r.obj('fast') as ExactSmaState);
    slow.restore(r.obj('slow') as ExactSmaState);
    this.fast.restore(fast.snapshot());
    this.slow.restore(slow.snapshot());
    this.#relation = relation as -1 | 0 | 1 | null;
  }
}
