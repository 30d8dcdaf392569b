import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal, Price, Quantity, formatDecimal, parseDecimal } from './decimal.js';

// parseDecimal reads short plain strings without its regex; a trailing "e0" (same value, same
// precision) always takes the general path, so the two paths can be compared on any input
function general(text: string): [bigint, number] | string {
  try {
    return parseDecimal(`${text}e0`);
  } catch (e) {
    return (e as Error).message.slice(0, (e as Error).message.indexOf(']') + 1);
  }
}

function fast(text: string): [bigint, number] | string {
  try {
    return parseDecimal(text);
  } catch (e) {
    return (e as Error).message.slice(0, (e as Error).message.indexOf(']') + 1);
  }
}

const shortText = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), maxLength: 10 }),
    fc.constantFrom('', '.'),
    fc.string({ unit: fc.constantFrom('0', '3', '7', '9'), maxLength: 10 }),
  )
  .map(([s, i, dot, f]) => s + i + dot + f);

const decimalValue = fc
  .tuple(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.integer({ min: 0, max: 14 }))
  .map(([raw, p]) => Decimal.fromRaw(raw, p));

describe('decimal fast paths', () => {
  it('short strings parse exactly as the general path does (values, precisions and refusals)', () => {
    fc.assert(
      fc.property(shortText, (text) => {
        expect(fast(text)).toEqual(general(text));
      }),
      { numRuns: 2000 },
    );
    for (const t of ['', '.', '-', '+', '-.', '5.', '.5', '-0', '+0.000', '999999999999999', '9999999999999999', '1.2.3', '1,5', ' 1']) {
      expect(fast(t), t).toEqual(general(t));
    }
    expect(parseDecimal('-0.125')).toEqual([-125n, 3]);
    expect(parseDecimal('50000.07')).toEqual([5000007n, 2]);
  });

  it('round-trips every canonical string of up to 15 digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n }), fc.integer({ min: 0, max: 15 }), (raw, p) => {
        expect(parseDecimal(formatDecimal(raw, p))).toEqual([raw, p]);
      }),
    );
  });

  it('arithmetic on decimal objects equals arithmetic on their strings (same and mixed precisions)', () => {
    fc.assert(
      fc.property(decimalValue, decimalValue, (a, b) => {
        const s = b.toString();
        expect(a.add(b).toString()).toBe(a.add(s).toString());
        expect(a.sub(b).toString()).toBe(a.sub(s).toString());
        expect(a.mul(b).toString()).toBe(a.mul(s).toString());
        expect(a.compare(b)).toBe(a.compare(s));
        // antisymmetric (a sum, so that 0 and -0 compare equal)
        expect(a.compare(b) + b.compare(a)).toBe(0);
        if (!b.isZero()) expect(a.div(b, 8).toString()).toBe(a.div(s, 8).toString());
        const same = Decimal.fromRaw(b.raw, a.precision);
        expect(a.add(same).raw).toBe(a.raw + b.raw);
        expect(a.sub(same).raw).toBe(a.raw - b.raw);
        expect(a.add(same).precision).toBe(a.precision);
      }),
    );
  });

  it('keeps each type and its checks on the same-precision path', () => {
    expect(Price.of('1.25').add(Price.of('0.50'))).toBeInstanceOf(Price);
    expect(Quantity.of('1.5').add('0.5').toString()).toBe('2.0');
    expect(() => Quantity.of('1.5').sub(Quantity.of('2.0'))).toThrow(/\[NegativeQuantity\]/);
    expect(Object.isFrozen(Decimal.of('1.5').add('2.5'))).toBe(true);
  });
});
