import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { divRound } from '../core/decimal.js';
import { big, cmp, divRaw, mulRaw, norm, rAbs, rAdd, rCmp, rDivRaw, rDivRound, rMul, rMulRaw, rNeg, rSub, rUp, up, type Raw } from './raw.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// magnitudes that matter: small, around 2^31 (Smi), around 2^53 (the safe edge, both sides) and far beyond
const magnitudeArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: -1000n, max: 1000n }),
  fc.bigInt({ min: -(2n ** 32n), max: 2n ** 32n }),
  fc.bigInt({ min: SAFE - 5000n, max: SAFE + 5000n }),
  fc.bigInt({ min: -SAFE - 5000n, max: -SAFE + 5000n }),
  fc.bigInt({ min: -(2n ** 27n), max: 2n ** 27n }).map((x) => x * 2n ** 26n),
  fc.bigInt({ min: -(2n ** 120n), max: 2n ** 120n }),
);

/** The value and its normalised Raw (what the portfolio holds). */
const rawArb: fc.Arbitrary<[bigint, Raw]> = magnitudeArb.map((b) => [b, norm(b)]);

/** A result is the exact value and normalised (a number exactly when it is a safe integer). */
function expectExact(got: Raw, want: bigint): void {
  expect(typeof got).toBe(want <= SAFE && want >= -SAFE ? 'number' : 'bigint');
  expect(big(got)).toBe(want);
  if (typeof got === 'number') expect(Object.is(got, -0)).toBe(false);
}

describe('Raw: safe-integer numbers with a bigint fallback give exactly the bigint results', () => {
  it('add, sub, mul, neg, abs', () => {
    fc.assert(
      fc.property(rawArb, rawArb, ([a, ra], [b, rb]) => {
        expectExact(rAdd(ra, rb), a + b);
        expectExact(rSub(ra, rb), a - b);
        expectExact(rMul(ra, rb), a * b);
        expectExact(rNeg(ra), -a);
        expectExact(rAbs(ra), a < 0n ? -a : a);
        // a bigint inside the safe range is still read by value
        expect(big(rAdd(a, b))).toBe(a + b);
        expect(big(rMul(a, rb))).toBe(a * b);
      }),
      { numRuns: 3000 },
    );
  });

  it('rescaling, comparison and products at precisions (including above the 30-digit cap)', () => {
    fc.assert(
      fc.property(rawArb, rawArb, fc.nat(30), fc.nat(30), fc.nat(12), ([a, ra], [b, rb], aP, bP, extra) => {
        expectExact(rUp(ra, aP, aP + extra), up(a, aP, aP + extra));
        expect(rCmp(ra, aP, rb, bP)).toBe(cmp(a, aP, b, bP));
        expectExact(rMulRaw(ra, aP, rb, bP), mulRaw(a, aP, b, bP));
      }),
      { numRuns: 3000 },
    );
  });

  it('division rounded half-even, ties included', () => {
    fc.assert(
      fc.property(rawArb, rawArb, fc.nat(12), fc.nat(12), fc.nat(20), ([a, ra], [b0], aP, bP, q) => {
        const b = b0 === 0n ? 7n : b0;
        const rb = norm(b);
        expectExact(rDivRound(ra, rb), divRound(a, b, 'half-even'));
        expectExact(rDivRaw(ra, aP, rb, bP, q), divRaw(a, aP, b, bP, q));
        // an exact tie: (2k + 1) * d / 2 rounds to the even neighbour
        const d = b < 0n ? -b : b;
        if (d % 2n === 0n) {
          const n = (2n * a + 1n) * (d / 2n);
          expectExact(rDivRound(norm(n), norm(d)), divRound(n, d, 'half-even'));
        }
      }),
      { numRuns: 3000 },
    );
    expect(() => rDivRound(5, 0)).toThrowError('[DivisionByZero] division by zero');
    expect(rDivRound(5, 2)).toBe(2);
    expect(rDivRound(-5, 2)).toBe(-2);
    expect(rDivRound(7, 2)).toBe(4);
    expect(rDivRound(-7, -2)).toBe(4);
  });

  it('crosses the safe edge in both directions without losing a unit', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(rAdd(max, 1)).toBe(SAFE + 1n);
    expect(rSub(rAdd(max, 1), 1)).toBe(max);
    expect(rAdd(max - 1, 1)).toBe(max);
    expect(rMul(94906265, 94906265)).toBe(94906265 * 94906265);
    expect(rMul(94906265, 94906266)).toBe(94906265 * 94906266);
    expect(rMul(94906266, 94906266)).toBe(94906266n * 94906266n);
    expect(rMul(-94906266, 94906266)).toBe(-94906266n * 94906266n);
    expect(rMul(2 ** 26, 2 ** 26)).toBe(2 ** 52);
    expect(rNeg(-max)).toBe(max);
    expect(rMul(0, -5)).toBe(0);
    expect(Object.is(rMul(0, -5), -0)).toBe(false);
  });
});
