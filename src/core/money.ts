import { Decimal, type DecimalInput, type Rounding, toRawParts } from './decimal.js';
import { CoreError } from './errors.js';

const CURRENCY_RE = /^[A-Za-z0-9]{1,16}$/;

/** Checks a currency code ("USD", "USDT", "BTC"). @throws CoreError InvalidIdentifier */
export function currencyCode(code: string): string {
  if (!CURRENCY_RE.test(code)) throw new CoreError('InvalidIdentifier', `invalid currency code: ${JSON.stringify(code)}`);
  return code;
}

/**
 * An exact amount in one currency. Arithmetic as `Decimal` (add/sub at max precision, mul adds
 * precisions, div rounds half-even); mixing currencies throws `CurrencyMismatch`.
 */
export class Money {
  readonly amount: Decimal;
  readonly currency: string;

  private constructor(amount: Decimal, currency: string) {
    this.amount = amount;
    this.currency = currency;
    Object.freeze(this);
  }

  /** From a decimal amount and a currency code. @throws CoreError InvalidDecimal | InvalidIdentifier */
  static of(amount: DecimalInput, currency: string): Money {
    return new Money(Decimal.of(amount), currencyCode(currency));
  }

  /** From a scaled integer amount. */
  static fromRaw(raw: bigint, precision: number, currency: string): Money {
    return new Money(Decimal.fromRaw(raw, precision), currencyCode(currency));
  }

  static zero(currency: string, precision = 0): Money {
    return Money.fromRaw(0n, precision, currency);
  }

  get raw(): bigint {
    return this.amount.raw;
  }
  get precision(): number {
    return this.amount.precision;
  }

  private same(other: Money, op: string): void {
    if (other.currency !== this.currency) {
      throw new CoreError('CurrencyMismatch', `cannot ${op} ${other.toString()} and ${this.toString()}`);
    }
  }

  /** Sum; both in one currency. @throws CoreError CurrencyMismatch */
  add(other: Money): Money {
    this.same(other, 'add');
    return new Money(this.amount.add(other.amount), this.currency);
  }

  /** Difference; both in one currency. @throws CoreError CurrencyMismatch */
  sub(other: Money): Money {
    this.same(other, 'subtract');
    return new Money(this.amount.sub(other.amount), this.currency);
  }

  /** Scaled by a plain factor (a quantity, a rate); precision p1 + p2. */
  mul(factor: DecimalInput): Money {
    if (factor instanceof Money) throw new CoreError('CurrencyMismatch', 'cannot multiply money by money');
    return new Money(this.amount.mul(factor), this.currency);
  }

  /** Divided by a plain factor, rounded to `precision` (default this precision) with `rounding`. */
  div(divisor: DecimalInput, precision: number = this.precision, rounding: Rounding = 'half-even'): Money {
    if (divisor instanceof Money) throw new CoreError('CurrencyMismatch', 'use ratio() to divide money by money');
    return new Money(this.amount.div(divisor, precision, rounding), this.currency);
  }

  /** This amount over another of the same currency, as a plain decimal at `precision` digits. */
  ratio(other: Money, precision = 12, rounding: Rounding = 'half-even'): Decimal {
    this.same(other, 'divide');
    return this.amount.div(other.amount, precision, rounding);
  }

  round(precision: number, rounding: Rounding = 'half-even'): Money {
    return new Money(this.amount.round(precision, rounding), this.currency);
  }

  /** Comparison by value. @throws CoreError CurrencyMismatch */
  compare(other: Money): -1 | 0 | 1 {
    this.same(other, 'compare');
    return this.amount.compare(other.amount);
  }
  eq(other: Money): boolean {
    return other.currency === this.currency && this.amount.eq(other.amount);
  }
  lt(other: Money): boolean {
    return this.compare(other) < 0;
  }
  gt(other: Money): boolean {
    return this.compare(other) > 0;
  }
  lte(other: Money): boolean {
    return this.compare(other) <= 0;
  }
  gte(other: Money): boolean {
    return this.compare(other) >= 0;
  }
  isZero(): boolean {
    return this.amount.isZero();
  }
  isNegative(): boolean {
    return this.amount.isNegative();
  }
  isPositive(): boolean {
    return this.amount.isPositive();
  }
  neg(): Money {
    return new Money(this.amount.neg(), this.currency);
  }
  abs(): Money {
    return new Money(this.amount.abs(), this.currency);
  }

  /** Nearest float of the amount; for statistics only. */
  toNumber(): number {
    return this.amount.toNumber();
  }

  /** The amount alone, lossless ("70000.0"). */
  amountString(): string {
    return this.amount.toString();
  }

  /** Lossless "amount CURRENCY" ("70000.0 USDT"). */
  toString(): string {
    return `${this.amount.toString()} ${this.currency}`;
  }

  toJSON(): { amount: string; currency: string } {
    return { amount: this.amount.toString(), currency: this.currency };
  }

  /** Parses "amount CURRENCY". @throws CoreError InvalidDecimal | InvalidIdentifier */
  static parse(text: string): Money {
    const parts = text.trim().split(/\s+/);
    if (parts.length !== 2) throw new CoreError('InvalidDecimal', `expected "amount CURRENCY", got ${JSON.stringify(text)}`);
    const [amount, currency] = parts as [string, string];
    toRawParts(amount);
    return Money.of(amount, currency);
  }
}
