import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDecimal } from '../core/decimal.js';
import { Scale, formatUnits, parseUnits } from './scale.js';

describe('Scale', () => {
  it('fast paths agree with the exact bigint conversions', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 15 }), (units, digits) => {
        const text = formatDecimal(BigInt(units), digits);
        expect(formatUnits(units, digits)).toBe(text);
        if (units >= 0) expect(parseUnits(text, digits)).toBe(units);
      }),
    );
  });

  it('converts exactly and refuses values off the grid', () => {
    const s = new Scale('0.01', '0.001');
    expect(s.priceToTicks('61837.63')).toBe(6_183_763);
    expect(s.priceToTicks('61837.630000')).toBe(6_183_763);
    expect(s.priceToTicks('1e2')).toBe(10_000);
    expect(s.ticksToString(6_183_763)).toBe('61837.63');
    expect(s.lotsToString(5)).toBe('0.005');
    expect(() => s.priceToTicks('0.001')).toThrow('[Matching] invalid price: 0.001 is not a multiple of 0.01');
    expect(() => s.quantityToLots('0')).toThrow('[Matching] invalid quantity: 0 (must be > 0)');
    expect(() => s.priceToTicks('abc')).toThrow('[Matching] invalid price: abc');
    const odd = new Scale('0.25', '2');
    expect(odd.priceToTicks('1.75')).toBe(7);
    expect(odd.ticksToString(7)).toBe('1.75');
    expect(odd.lotsToString(3)).toBe('6');
    expect(() => odd.quantityToLots('3')).toThrow('not a multiple of 2');
    expect(() => new Scale('0')).toThrow('[Matching] invalid tick size: 0 (must be > 0)');
  });
});
