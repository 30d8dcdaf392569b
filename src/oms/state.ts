// checks for restoring OMS snapshots: every problem is an OmsError RecoveryFailed naming the path of
// the bad value; not exported from the module index
import { MAX_PRECISION, parseDecimal } from '../core/decimal.js';
import { OmsError } from './errors.js';

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;

/** Reads plain snapshot data for `owner` (e.g. "Portfolio restore"), refusing anything malformed. */
export class StateReader {
  constructor(readonly owner: string) {}

  fail(path: string, what: string): never {
    throw new OmsError('RecoveryFailed', `${this.owner}: ${path}: ${what}`);
  }

  /** A plain object with exactly `keys` (unknown or missing keys are refused). */
  obj(v: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kindOf(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(path, `unknown key ${JSON.stringify(k)}`);
    for (const k of keys) if (!(k in o)) this.fail(path, `missing key ${JSON.stringify(k)}`);
    return o;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kindOf(v)}`);
    return v;
  }

  /** An array of exactly `length` elements. */
  arrOf(v: unknown, path: string, length: number): unknown[] {
    const a = this.arr(v, path);
    if (a.length !== length) this.fail(path, `expected ${length} elements, got ${a.length}`);
    return a;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') this.fail(path, `expected a non-empty string, got ${kindOf(v)}`);
    return v;
  }

  /** A non-empty string or null (absent). */
  optStr(v: unknown, path: string): string | undefined {
    return v === null ? undefined : this.str(v, path);
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected a boolean, got ${kindOf(v)}`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `expected an integer in ${min}..${max}, got ${kindOf(v)}`);
    }
    return v;
  }

  /** An epoch-ns bigint. */
  ns(v: unknown, path: string): bigint {
    if (typeof v !== 'bigint') this.fail(path, `expected a bigint (epoch ns), got ${kindOf(v)}`);
    return v;
  }

  /** A decimal string as formatDecimal writes it, as [raw, precision]. */
  dec(v: unknown, path: string): [bigint, number] {
    if (typeof v !== 'string' || !DECIMAL_TEXT.test(v)) this.fail(path, `expected a decimal string, got ${kindOf(v)}`);
    const frac = v.indexOf('.');
    if (frac >= 0 && v.length - frac - 1 > MAX_PRECISION) this.fail(path, `${v} has more than ${MAX_PRECISION} decimal places`);
    return parseDecimal(v);
  }

  /** A decimal string or null. */
  optDec(v: unknown, path: string): [bigint, number] | undefined {
    return v === null ? undefined : this.dec(v, path);
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}
