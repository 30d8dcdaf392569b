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

/**
 * A scaled integer on the hot fill path: a safe-integer `number` while it fits, so an operation
 * allocates nothing, else a `bigint`. Normalised: a value within ±(2^53 - 1) is always a number.
 * A sum, difference or product of safe integers is exact whenever its true value is safe (IEEE
 * rounding is monotonic, so an unsafe true value never rounds into the safe range); every helper
 * checks the result and falls back to bigint arithmetic otherwise.
 */
export type Raw = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
// 10^k is exact as a double up to 10^22
const POW10_NUMBER: readonly number[] = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** `r` as a bigint. */
export function big(r: Raw): bigint {
  return typeof r === 'number' ? BigInt(r) : r;
}

/** `b` normalised: a number when it is a safe integer. */
export function norm(b: bigint): Raw {
  return b <= MAX_SAFE_BIG && b >= -MAX_SAFE_BIG ? Number(b) : b;
}

/** a + b. */
export function rAdd(a: Raw, b: Raw): Raw {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return norm(big(a) + big(b));
}

/** a - b. */
export function rSub(a: Raw, b: Raw): Raw {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return norm(big(a) - big(b));
}

/** a * b. */
export function rMul(a: Raw, b: Raw): Raw {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    // + 0 turns -0 into 0
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r + 0;
  }
  return norm(big(a) * big(b));
}

/** -a. */
export function rNeg(a: Raw): Raw {
  return typeof a === 'number' ? 0 - a : norm(-a);
}

/** |a|. */
export function rAbs(a: Raw): Raw {
  return a < 0 ? rNeg(a) : a;
}

/** `r` at precision `from` rescaled up to `to` (to >= from). */
export function rUp(r: Raw, from: number, to: number): Raw {
  if (from === to) return r;
  const k = to - from;
  return k < POW10_NUMBER.length ? rMul(r, POW10_NUMBER[k] as number) : norm(big(r) * pow10(k));
}

/** -1, 0 or 1 comparing two (raw, precision) pairs by value. */
export function rCmp(aR: Raw, aP: number, bR: Raw, bP: number): number {
  if (aP < bP) aR = rUp(aR, aP, bP);
  else if (bP < aP) bR = rUp(bR, bP, aP);
  if (typeof aR === 'number' && typeof bR === 'number') return aR < bR ? -1 : aR > bR ? 1 : 0;
  const x = big(aR);
  const y = big(bR);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Raw of a product at mulPrecision (rounded half-even above the cap, as Decimal.mul). */
export function rMulRaw(aR: Raw, aP: number, bR: Raw, bP: number): Raw {
  return aP + bP <= MAX_PRECISION ? rMul(aR, bR) : norm(mulRaw(big(aR), aP, big(bR), bP));
}

/** n / d rounded half-even (divRound's 'half-even'). @throws CoreError DivisionByZero */
export function rDivRound(n: Raw, d: Raw): Raw {
  if (typeof n === 'number' && typeof d === 'number' && d !== 0) {
    if (d < 0) {
      n = 0 - n;
      d = 0 - d;
    }
    // % is exact on doubles, so n - r is an exact multiple of d and the quotient an exact integer
    const r = n % d;
    const q = (n - r) / d + 0;
    if (r === 0) return q;
    const twice = (r < 0 ? -r : r) * 2;
    if (twice < d) return q;
    const away = n < 0 ? q - 1 : q + 1;
    if (twice > d) return away;
    return q % 2 === 0 ? q : away;
  }
  return norm(divRound(big(n), big(d), 'half-even'));
}

/** Raw of a / b at precision `q`, rounded half-even (divRaw). */
export function rDivRaw(aR: Raw, aP: number, bR: Raw, bP: number, q: number): Raw {
  const shift = q + bP - aP;
  if (shift === 0) return rDivRound(aR, bR);
  return shift > 0 ? rDivRound(rUp(aR, 0, shift), bR) : rDivRound(aR, rUp(bR, 0, -shift));
}
