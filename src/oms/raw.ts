// scaled-integer arithmetic on (raw, precision) pairs for the fill path: the same results as
// Decimal's add/sub/mul/div (see the table in core/decimal.ts) without a frozen object per step;
// not exported from the module index
import { CoreError } from '../core/errors.js';
import { Decimal, MAX_PRECISION, divRound, pow10, type DecimalInput } from '../core/decimal.js';
import { OmsError } from './errors.js';

/** `raw` at precision `from` rescaled up to `to` (to >= from). */
export function up(raw: bigint, from: number, to: number): bigint {
  return from === to ? raw : raw * pow10(to - from);
}

/** Precision of a product (Decimal.mul): p1 + p2 capped at MAX_PRECISION. */
export function mulPrecision(aP: number, bP: number): number {
  const q = aP + bP;
  return q <= MAX_PRECISION ? q : MAX_PRECISION;
}

/** Raw of a product at mulPrecision (rounded half-even above the cap, as Decimal.mul). */
export function mulRaw(aR: bigint, aP: number, bR: bigint, bP: number): bigint {
  const q = aP + bP;
  const raw = aR * bR;
  return q <= MAX_PRECISION ? raw : divRound(raw, pow10(q - MAX_PRECISION), 'half-even');
}

/** Raw of a / b at precision `q`, rounded half-even (as Decimal.div with an explicit precision). */
export function divRaw(aR: bigint, aP: number, bR: bigint, bP: number, q: number): bigint {
  const shift = q + bP - aP;
  if (shift === 0) return divRound(aR, bR, 'half-even');
  return shift > 0 ? divRound(aR * pow10(shift), bR, 'half-even') : divRound(aR, bR * pow10(-shift), 'half-even');
}

/** -1, 0 or 1 comparing two pairs by value. */
export function cmp(aR: bigint, aP: number, bR: bigint, bP: number): number {
  if (aP < bP) aR *= pow10(bP - aP);
  else if (bP < aP) bR *= pow10(aP - bP);
  return aR < bR ? -1 : aR > bR ? 1 : 0;
}

// fills repeat the same price and quantity strings (a price level, a lot size); decimals are
// immutable, so a parsed one is shared; the cache is emptied when full to bound its memory
const PARSED = new Map<string, Decimal>();
const PARSED_MAX = 1024;

/**
 * Reads an API-edge decimal as omsDecimal does; the error names `what` + `subject`, which are only
 * joined when the input is bad.
 * @throws OmsError SerializationError
 */
export function edgeDecimal(input: DecimalInput, what: string, subject: string): Decimal {
  if (input instanceof Decimal) return input;
  try {
    if (typeof input !== 'string') return Decimal.of(input);
    let d = PARSED.get(input);
    if (d === undefined) {
      d = Decimal.of(input);
      if (PARSED.size >= PARSED_MAX) PARSED.clear();
      PARSED.set(input, d);
    }
    return d;
  } catch (e) {
    if (e instanceof CoreError) throw new OmsError('SerializationError', `${what}${subject}: ${e.detail}`, { cause: e });
    throw e;
  }
}
