import { AxonError } from '../core/errors.js';

/** Stable error codes of the indicators module. */
export type IndicatorErrorCode =
  | 'InvalidParameter'
  | 'InvalidInput'
  | 'InvalidState'
  | 'PrecisionMismatch'
  | 'NotConfigured';

/** Error raised by the streaming indicators: bad parameters, bad inputs, bad snapshots. */
export class IndicatorError extends AxonError<IndicatorErrorCode> {
  override readonly name = 'IndicatorError';
}

/** Checks that `period` is an integer >= `min`. @throws IndicatorError InvalidParameter */
export function checkPeriod(what: string, period: unknown, min = 1): number {
  if (typeof period !== 'number' || !Number.isInteger(period) || period < min || period > 1_000_000) {
    throw new IndicatorError('InvalidParameter', `${what}: period must be an integer in [${min}, 1000000], got ${String(period)}`);
  }
  return period;
}

/** Throws InvalidInput unless `x` is finite; called before any state changes. */
export function checkFinite(what: string, name: string, x: number): void {
  if (!Number.isFinite(x)) throw new IndicatorError('InvalidInput', `${what}: ${name} must be a finite number, got ${x}`);
}

/** Encodes a number for a JSON snapshot: NaN and infinities become null. */
export function enc(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Decodes a snapshot number: null becomes NaN. */
export function dec(x: number | null): number {
  return x === null ? Number.NaN : x;
}

/** Validation of a snapshot before it is applied, so a bad state never half-restores. */
export class StateReader {
  readonly #what: string;
  readonly #state: Record<string, unknown>;

  constructor(what: string, state: unknown, kind: string) {
    this.#what = what;
    if (typeof state !== 'object' || state === null || Array.isArray(state)) this.fail('state must be an object');
    this.#state = state as Record<string, unknown>;
    if (this.#state['kind'] !== kind) this.fail(`kind must be ${JSON.stringify(kind)}, got ${JSON.stringify(this.#state['kind'])}`);
  }

  fail(detail: string): never {
    throw new IndicatorError('InvalidState', `${this.#what} restore: ${detail}`);
  }

  /** An integer field in [min, max]. */
  int(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.#state[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }

  /** An integer field that must equal the indicator's own parameter. */
  same(key: string, expected: number): void {
    const v = this.#state[key];
    if (v !== expected) this.fail(`${key} is ${JSON.stringify(v)} but this indicator has ${expected}`);
  }

  /** A finite number, or null for NaN when `nullable`. */
  num(key: string, nullable = false): number {
    const v = this.#state[key];
    if (v === null && nullable) return Number.NaN;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${key} must be a finite number${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
    return v;
  }

  /** An array of finite numbers of exactly `length` elements. */
  nums(key: string, length: number): number[] {
    const v = this.#state[key];
    if (!Array.isArray(v) || v.length !== length) this.fail(`${key} must be an array of ${length} numbers`);
    for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(`${key} holds a non-finite value ${JSON.stringify(x)}`);
    return v as number[];
  }

  /** A nested object field (validated by its own reader). */
  obj(key: string): unknown {
    return this.#state[key];
  }
}
