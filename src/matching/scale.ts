import { formatDecimal, pow10, toRawParts, type DecimalInput } from '../core/decimal.js';
import { BacktestError } from './errors.js';

/**
 * Parses a non-negative decimal string into integer units of 10^-digits without allocating
 * ("61837.63000000", 2 -> 6183763); returns NaN when the text is not such a number, when it has
 * non-zero digits beyond `digits`, or when the result is not a safe integer.
 */
export function parseUnits(text: string, digits: number): number {
  let v = 0;
  let i = 0;
  const n = text.length;
  if (n === 0) return Number.NaN;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return Number.NaN;
    v = v * 10 + (c - 48);
  }
  let frac = 0;
  if (i < n) {
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return Number.NaN;
      if (frac < digits) {
        v = v * 10 + (c - 48);
        frac++;
      } else if (c !== 48) {
        return Number.NaN;
      }
    }
  }
  for (; frac < digits; frac++) v *= 10;
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

/** Formats integer units of 10^-digits exactly ("6183763", 2 -> "61837.63"); `units` must be a safe integer. */
export function formatUnits(units: number, digits: number): string {
  if (digits === 0) return String(units);
  const neg = units < 0;
  const u = neg ? -units : units;
  const d = POW10_NUMBER[digits] ?? 10 ** digits;
  const r = u % d;
  const q = (u - r) / d;
  const frac = String(r);
  return `${neg ? '-' : ''}${q}.${'0'.repeat(digits - frac.length)}${frac}`;
}

const POW10_NUMBER = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Conversion between exact decimals at the API edge and the book's integer ticks and lots:
 * price = ticks x tickSize, quantity = lots x lotSize. Inside the book prices and quantities are
 * plain numbers holding exact integers (safe below 2^53), which is exact and allocation-free; a
 * value that is not a whole number of ticks or lots is refused, never rounded.
 */
export class Scale {
  /** Tick size as a canonical decimal string (quote currency per unit). */
  readonly tickSize: string;
  /** Lot size as a canonical decimal string (base units). */
  readonly lotSize: string;
  readonly #tickRaw: bigint;
  readonly #tickPrecision: number;
  readonly #lotRaw: bigint;
  readonly #lotPrecision: number;

  /** @throws BacktestError Matching when a size is not a positive decimal */
  constructor(tickSize: DecimalInput = '0.01', lotSize: DecimalInput = '0.00000001') {
    [this.#tickRaw, this.#tickPrecision] = positive(tickSize, 'tick size');
    [this.#lotRaw, this.#lotPrecision] = positive(lotSize, 'lot size');
    this.tickSize = formatDecimal(this.#tickRaw, this.#tickPrecision);
    this.lotSize = formatDecimal(this.#lotRaw, this.#lotPrecision);
  }

  /** Decimal digits of a price (the tick size's precision). */
  get pricePrecision(): number {
    return this.#tickPrecision;
  }
  /** Decimal digits of a quantity (the lot size's precision). */
  get quantityPrecision(): number {
    return this.#lotPrecision;
  }

  /** A positive price as whole ticks. @throws BacktestError Matching "invalid price: ..." */
  priceToTicks(price: DecimalInput): number {
    // fast path for a tick of 10^-k and a plain decimal string; anything unusual takes the exact path
    if (this.#tickRaw === 1n && typeof price === 'string') {
      const t = parseUnits(price, this.#tickPrecision);
      if (t > 0) return t;
    }
    return toUnits(price, this.#tickRaw, this.#tickPrecision, 'price', this.tickSize);
  }

  /** A positive quantity as whole lots. @throws BacktestError Matching "invalid quantity: ..." */
  quantityToLots(quantity: DecimalInput): number {
    if (this.#lotRaw === 1n && typeof quantity === 'string') {
      const l = parseUnits(quantity, this.#lotPrecision);
      if (l > 0) return l;
    }
    return toUnits(quantity, this.#lotRaw, this.#lotPrecision, 'quantity', this.lotSize);
  }

  /** Ticks as an exact decimal string at the tick size's precision. */
  ticksToString(ticks: number): string {
    if (this.#tickRaw === 1n && this.#tickPrecision < POW10_NUMBER.length && Number.isSafeInteger(ticks)) return formatUnits(ticks, this.#tickPrecision);
    return formatDecimal(BigInt(ticks) * this.#tickRaw, this.#tickPrecision);
  }

  /** Lots as an exact decimal string at the lot size's precision. */
  lotsToString(lots: number): string {
    if (this.#lotRaw === 1n && this.#lotPrecision < POW10_NUMBER.length && Number.isSafeInteger(lots)) return formatUnits(lots, this.#lotPrecision);
    return formatDecimal(BigInt(lots) * this.#lotRaw, this.#lotPrecision);
  }

  /** Ticks as `[raw, precision]` of the exact price. */
  ticksToRaw(ticks: number): [bigint, number] {
    return [BigInt(ticks) * this.#tickRaw, this.#tickPrecision];
  }

  /** Lots as `[raw, precision]` of the exact quantity. */
  lotsToRaw(lots: number): [bigint, number] {
    return [BigInt(lots) * this.#lotRaw, this.#lotPrecision];
  }
}

function positive(input: DecimalInput, what: string): [bigint, number] {
  let parts: [bigint, number];
  try {
    parts = toRawParts(input);
  } catch (e) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(input)}`, { cause: e });
  }
  if (parts[0] <= 0n) throw new BacktestError('Matching', `invalid ${what}: ${String(input)} (must be > 0)`);
  return parts;
}

function toUnits(input: DecimalInput, stepRaw: bigint, stepPrecision: number, what: string, step: string): number {
  let raw: bigint;
  let precision: number;
  try {
    [raw, precision] = toRawParts(input);
  } catch (e) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(input)}`, { cause: e });
  }
  if (raw <= 0n) throw new BacktestError('Matching', `invalid ${what}: ${String(input)} (must be > 0)`);
  // value / step = raw * 10^sp / (stepRaw * 10^p)
  const num = precision > stepPrecision ? raw : raw * pow10(stepPrecision - precision);
  const den = precision > stepPrecision ? stepRaw * pow10(precision - stepPrecision) : stepRaw;
  if (num % den !== 0n) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(input)} is not a multiple of ${step}`);
  }
  const units = num / den;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BacktestError('Matching', `invalid ${what}: ${String(input)} is too large (over 2^53 steps of ${step})`);
  }
  return Number(units);
}
