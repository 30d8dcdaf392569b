import { CoreError } from './errors.js';

/**
 * Exact decimal values over a `bigint` scaled integer: value = raw / 10^precision.
 *
 * Arithmetic (the result precision for operands of precision p1 and p2):
 * | operation          | result precision                 | exactness                              |
 * |--------------------|----------------------------------|----------------------------------------|
 * | add, sub           | max(p1, p2)                      | exact                                  |
 * | mul                | p1 + p2, capped at MAX_PRECISION | exact below the cap, else rounded      |
 * | div                | `precision` arg, else max(p1,p2) | rounded with `rounding` (half-even)    |
 * | round(p, mode)     | p                                | rounded with mode (half-even default)  |
 * | roundTo(step,mode) | step's precision                 | a multiple of step (tick / lot)        |
 * Comparison is by value: 1.0 equals 1.00. `toString` prints exactly `precision` fraction digits,
 * so string -> value -> string gives back the canonical form of the input.
 */
export const MAX_PRECISION = 30;

/** How a value that falls between two representable values is resolved. */
export type Rounding = 'half-even' | 'half-up' | 'half-down' | 'floor' | 'ceil' | 'down' | 'up';

/** What the decimal constructors accept: a decimal string, a safe integer, a bigint integer, or a decimal. */
export type DecimalInput = string | number | bigint | DecimalValue;

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 2 * MAX_PRECISION + 2; i++, p *= 10n) POW10.push(p);

/** 10^n as a bigint. */
export function pow10(n: number): bigint {
  const v = POW10[n];
  if (v !== undefined) return v;
  return 10n ** BigInt(n);
}

const DECIMAL_RE = /^([+-])?(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * The common short form `[+-]digits[.digits]` with at most 15 digits in all, read with float
 * arithmetic (exact below 2^53) and no regex; undefined for anything else (the general path decides).
 */
function parseShort(text: string): [bigint, number] | undefined {
  const n = text.length;
  if (n === 0 || n > 17) return undefined;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45) {
    negative = true;
    i = 1;
  } else if (first === 43) {
    i = 1;
  }
  let value = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 && fraction < 0) {
      fraction = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > 15) return undefined;
  return [BigInt(negative ? -value : value), fraction < 0 ? 0 : fraction];
}

/** Parses a decimal string into `[raw, precision]`, exactly; throws `InvalidDecimal`. */
export function parseDecimal(text: string): [bigint, number] {
  return parseShort(text) ?? parseGeneral(text);
}

function parseGeneral(text: string): [bigint, number] {
  const m = DECIMAL_RE.exec(text);
  if (m === null || (m[2] === undefined && (m[3] === undefined || m[3] === ''))) {
    throw new CoreError('InvalidDecimal', `not a decimal number: ${JSON.stringify(text)}`);
  }
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '0';
  const frac = m[3] ?? '';
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  let digits = intPart + frac;
  let precision = frac.length - exp;
  if (precision < 0) {
    digits += '0'.repeat(-precision);
    precision = 0;
  }
  if (precision > MAX_PRECISION) {
    // trailing zeros beyond the limit carry no value
    const excess = precision - MAX_PRECISION;
    const tail = digits.slice(digits.length - excess);
    if (/^0*$/.test(tail)) {
      digits = digits.slice(0, digits.length - excess);
      precision = MAX_PRECISION;
    } else {
      throw new CoreError('PrecisionExceeded', `${JSON.stringify(text)} has more than ${MAX_PRECISION} decimal places`);
    }
  }
  return [sign * BigInt(digits), precision];
}

/** Divides `n` by `d` (d > 0 or d < 0), rounding the quotient with `mode`. */
export function divRound(n: bigint, d: bigint, mode: Rounding): bigint {
  if (d === 0n) throw new CoreError('DivisionByZero', 'division by zero');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const q = n / d; // truncates toward zero
  const r = n % d; // = n - q * d (sign of n), one bigint instead of two
  if (r === 0n) return q;
  const negative = n < 0n;
  switch (mode) {
    case 'down':
      return q;
    case 'up':
      return negative ? q - 1n : q + 1n;
    case 'floor':
      return negative ? q - 1n : q;
    case 'ceil':
      return negative ? q : q + 1n;
    default: {
      const twice = (r < 0n ? -r : r) * 2n;
      if (twice < d) return q;
      const away = negative ? q - 1n : q + 1n;
      if (twice > d) return away;
      if (mode === 'half-up') return away;
      if (mode === 'half-down') return q;
      return q % 2n === 0n ? q : away;
    }
  }
}

/** Rescales `raw` from precision `from` to `to`, rounding with `mode` when digits are dropped. */
export function rescale(raw: bigint, from: number, to: number, mode: Rounding = 'half-even'): bigint {
  if (to === from) return raw;
  if (to > from) return raw * pow10(to - from);
  return divRound(raw, pow10(from - to), mode);
}

/** Formats `raw / 10^precision` with exactly `precision` fraction digits. */
export function formatDecimal(raw: bigint, precision: number): string {
  if (precision === 0) return raw.toString();
  const negative = raw < 0n;
  let s = (negative ? -raw : raw).toString();
  if (s.length <= precision) s = '0'.repeat(precision - s.length + 1) + s;
  const cut = s.length - precision;
  return `${negative ? '-' : ''}${s.slice(0, cut)}.${s.slice(cut)}`;
}

function checkPrecision(precision: number): void {
  if (!Number.isInteger(precision) || precision < 0 || precision > MAX_PRECISION) {
    throw new CoreError('PrecisionExceeded', `precision must be an integer in 0..${MAX_PRECISION}, got ${precision}`);
  }
}

/** Reads any DecimalInput as `[raw, precision]`; numbers must be safe integers (floats are refused). */
export function toRawParts(input: DecimalInput): [bigint, number] {
  if (typeof input === 'string') return parseDecimal(input);
  if (typeof input === 'bigint') return [input, 0];
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw new CoreError(
        'InvalidDecimal',
        `number ${input} is not a safe integer; pass decimals as strings to keep them exact`,
      );
    }
    return [BigInt(input), 0];
  }
  return [input.raw, input.precision];
}

interface RawParts {
  readonly raw: bigint;
  readonly precision: number;
}

/** A decimal object as is (no copy), anything else parsed by toRawParts. */
function asRaw(input: DecimalInput): RawParts {
  if (typeof input === 'object') return input;
  const [raw, precision] = toRawParts(input);
  return { raw, precision };
}

/** Shared behaviour of Decimal, Price and Quantity: an immutable scaled integer. */
export abstract class DecimalValue {
  /** The scaled integer: value = raw / 10^precision. */
  readonly raw: bigint;
  /** Number of fraction digits. */
  readonly precision: number;

  protected constructor(raw: bigint, precision: number) {
    checkPrecision(precision);
    this.raw = raw;
    this.precision = precision;
  }

  protected abstract make(raw: bigint, precision: number): this;

  /** Sum at precision max(p1, p2); exact. */
  add(other: DecimalInput): this {
    const o = asRaw(other);
    const r = o.raw;
    const p = o.precision;
    if (p === this.precision) return this.make(this.raw + r, p);
    const q = Math.max(this.precision, p);
    return this.make(rescale(this.raw, this.precision, q) + rescale(r, p, q), q);
  }

  /** Difference at precision max(p1, p2); exact. */
  sub(other: DecimalInput): this {
    const o = asRaw(other);
    const r = o.raw;
    const p = o.precision;
    if (p === this.precision) return this.make(this.raw - r, p);
    const q = Math.max(this.precision, p);
    return this.make(rescale(this.raw, this.precision, q) - rescale(r, p, q), q);
  }

  /** Product at precision p1 + p2 (exact), rounded half-even if that exceeds MAX_PRECISION. */
  mul(other: DecimalInput): this {
    const o = asRaw(other);
    const r = o.raw;
    const p = o.precision;
    const q = this.precision + p;
    const raw = this.raw * r;
    if (q <= MAX_PRECISION) return this.make(raw, q);
    return this.make(rescale(raw, q, MAX_PRECISION), MAX_PRECISION);
  }

  /**
   * Quotient rounded to `precision` digits (default max(p1, p2)) with `rounding` (default half-even).
   * @throws CoreError DivisionByZero
   */
  div(other: DecimalInput, precision?: number, rounding: Rounding = 'half-even'): this {
    const o = asRaw(other);
    const r = o.raw;
    const p = o.precision;
    if (r === 0n) throw new CoreError('DivisionByZero', `division of ${this.toString()} by zero`);
    const q = precision ?? Math.max(this.precision, p);
    checkPrecision(q);
    // value = (raw/10^p1) / (r/10^p) = raw * 10^(p - p1) / r; scaled by 10^q
    const shift = q + p - this.precision;
    const num = shift >= 0 ? this.raw * pow10(shift) : this.raw;
    const den = shift >= 0 ? r : r * pow10(-shift);
    return this.make(divRound(num, den, rounding), q);
  }

  /** This value at `precision` digits, rounded with `rounding` (default half-even). */
  round(precision: number, rounding: Rounding = 'half-even'): this {
    checkPrecision(precision);
    return this.make(rescale(this.raw, this.precision, precision, rounding), precision);
  }

  /** The multiple of `step` (a tick or lot size) nearest by `rounding`; the result has step's precision. */
  roundTo(step: DecimalInput, rounding: Rounding = 'half-even'): this {
    const [sr, sp] = toRawParts(step);
    if (sr <= 0n) throw new CoreError('InvalidArgument', 'rounding step must be positive');
    const q = Math.max(this.precision, sp);
    const units = divRound(rescale(this.raw, this.precision, q), rescale(sr, sp, q), rounding);
    return this.make(rescale(units * rescale(sr, sp, q), q, sp, 'down'), sp);
  }

  /** True when this value is an exact multiple of `step`. */
  isMultipleOf(step: DecimalInput): boolean {
    const [sr, sp] = toRawParts(step);
    if (sr === 0n) return false;
    const q = Math.max(this.precision, sp);
    return rescale(this.raw, this.precision, q) % rescale(sr, sp, q) === 0n;
  }

  /** -1, 0 or 1 as this value is below, equal to or above `other`, by value. */
  compare(other: DecimalInput): -1 | 0 | 1 {
    const o = asRaw(other);
    const r = o.raw;
    const p = o.precision;
    if (p === this.precision) return this.raw < r ? -1 : this.raw > r ? 1 : 0;
    const q = Math.max(this.precision, p);
    const a = rescale(this.raw, this.precision, q);
    const b = rescale(r, p, q);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: DecimalInput): boolean {
    return this.compare(other) === 0;
  }
  lt(other: DecimalInput): boolean {
    return this.compare(other) < 0;
  }
  lte(other: DecimalInput): boolean {
    return this.compare(other) <= 0;
  }
  gt(other: DecimalInput): boolean {
    return this.compare(other) > 0;
  }
  gte(other: DecimalInput): boolean {
    return this.compare(other) >= 0;
  }
  isZero(): boolean {
    return this.raw === 0n;
  }
  isNegative(): boolean {
    return this.raw < 0n;
  }
  isPositive(): boolean {
    return this.raw > 0n;
  }
  sign(): -1 | 0 | 1 {
    return this.raw < 0n ? -1 : this.raw > 0n ? 1 : 0;
  }
  neg(): this {
    return this.make(-this.raw, this.precision);
  }
  abs(): this {
    return this.raw < 0n ? this.make(-this.raw, this.precision) : this;
  }

  /** The same value with trailing fraction zeros removed (1.500 -> 1.5). */
  normalize(): this {
    let raw = this.raw;
    let p = this.precision;
    while (p > 0 && raw % 10n === 0n) {
      raw /= 10n;
      p--;
    }
    return this.make(raw, p);
  }

  /** Nearest float; for indicators and statistics only, never for money paths. */
  toNumber(): number {
    return Number(formatDecimal(this.raw, this.precision));
  }

  /** Lossless decimal string with exactly `precision` fraction digits. */
  toString(): string {
    return formatDecimal(this.raw, this.precision);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** General exact decimal (rust_decimal's semantics: scale kept, mul adds scales). */
export class Decimal extends DecimalValue {
  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);

  private constructor(raw: bigint, precision: number) {
    super(raw, precision);
    Object.freeze(this);
  }

  protected make(raw: bigint, precision: number): this {
    return new Decimal(raw, precision) as this;
  }

  /** From a decimal string, safe integer, bigint or decimal. @throws CoreError InvalidDecimal */
  static of(input: DecimalInput): Decimal {
    if (input instanceof Decimal) return input;
    const [r, p] = toRawParts(input);
    return new Decimal(r, p);
  }

  /** From a scaled integer: value = raw / 10^precision. */
  static fromRaw(raw: bigint, precision: number): Decimal {
    return new Decimal(raw, precision);
  }

  /** Whether `text` parses as a decimal. */
  static isValid(text: string): boolean {
    return DECIMAL_RE.test(text) && text !== '' && text !== '.' && text !== '-' && text !== '+';
  }
}

/** A price (may be negative, e.g. a spread), with the instrument's precision. */
export class Price extends DecimalValue {
  private constructor(raw: bigint, precision: number) {
    super(raw, precision);
    Object.freeze(this);
  }

  protected make(raw: bigint, precision: number): this {
    return new Price(raw, precision) as this;
  }

  /**
   * From a decimal string (or safe integer / decimal); with `precision`, the value must be exact at it.
   * @throws CoreError InvalidDecimal | PrecisionExceeded
   */
  static of(input: DecimalInput, precision?: number): Price {
    const [r, p] = toRawParts(input);
    if (precision === undefined) return new Price(r, p);
    return new Price(exactAt(r, p, precision, 'Price', input), precision);
  }

  /** From a scaled integer: value = raw / 10^precision. */
  static fromRaw(raw: bigint, precision: number): Price {
    return new Price(raw, precision);
  }
}

/** A non-negative quantity (units of the instrument), with the instrument's size precision. */
export class Quantity extends DecimalValue {
  private constructor(raw: bigint, precision: number) {
    if (raw < 0n) throw new CoreError('NegativeQuantity', `quantity cannot be negative: ${formatDecimal(raw, precision)}`);
    super(raw, precision);
    Object.freeze(this);
  }

  protected make(raw: bigint, precision: number): this {
    return new Quantity(raw, precision) as this;
  }

  /**
   * From a decimal string (or safe integer / decimal); with `precision`, the value must be exact at it.
   * @throws CoreError InvalidDecimal | PrecisionExceeded | NegativeQuantity
   */
  static of(input: DecimalInput, precision?: number): Quantity {
    const [r, p] = toRawParts(input);
    if (precision === undefined) return new Quantity(r, p);
    return new Quantity(exactAt(r, p, precision, 'Quantity', input), precision);
  }

  /** From a scaled integer: value = raw / 10^precision. @throws CoreError NegativeQuantity */
  static fromRaw(raw: bigint, precision: number): Quantity {
    return new Quantity(raw, precision);
  }

  static zero(precision = 0): Quantity {
    return new Quantity(0n, precision);
  }
}

function exactAt(raw: bigint, from: number, to: number, what: string, input: DecimalInput): bigint {
  checkPrecision(to);
  if (to >= from) return raw * pow10(to - from);
  const d = pow10(from - to);
  if (raw % d !== 0n) {
    throw new CoreError('PrecisionExceeded', `${what} ${String(input)} is not exact at precision ${to}`);
  }
  return raw / d;
}

/** Converts a float from market data (e.g. a bar close) to a Price at `precision`, via its shortest round-trip string. */
export function priceFromFloat(value: number, precision: number, rounding: Rounding = 'half-even'): Price {
  if (!Number.isFinite(value)) throw new CoreError('InvalidDecimal', `not a finite price: ${value}`);
  const [r, p] = parseDecimal(shortestString(value));
  return Price.fromRaw(rescale(r, p, precision, rounding), precision);
}

/** The shortest decimal string that reads back as `value` (no exponent). */
export function shortestString(value: number): string {
  const s = String(value);
  if (!/e/i.test(s)) return s;
  const [r, p] = parseDecimal(s);
  return formatDecimal(r, p);
}
