import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { frozenData, isFrozenData, sameFrozenList, samePlainData } from './frozen.js';

describe('frozenData helpers', () => {
  it('sameFrozenList keeps the old list while its elements are the same objects, and freezes a new one', () => {
    const a = frozenData({ id: 'a' });
    const b = frozenData({ id: 'b' });
    const first = sameFrozenList(undefined, [a, b]);
    expect(isFrozenData(first)).toBe(true);
    expect(Object.isFrozen(first)).toBe(true);
    expect(sameFrozenList(first, [a, b])).toBe(first);
    // equal but not the same element, another order, another length: a new list
    const c = { id: 'b' };
    const other = sameFrozenList(first, [a, c]);
    expect(other).not.toBe(first);
    expect(Object.isFrozen(c)).toBe(true);
    expect(sameFrozenList(other, [c, a])).not.toBe(other);
    expect(sameFrozenList(first, [a])).not.toBe(first);
  });

  it('samePlainData is equality of what a checkpoint encodes: -0, NaN, bigints, key order, nesting', () => {
    expect(samePlainData({ a: 1, b: [1n, 'x', null] }, { a: 1, b: [1n, 'x', null] })).toBe(true);
    expect(samePlainData({ a: Number.NaN }, { a: Number.NaN })).toBe(true);
    expect(samePlainData({ a: 0 }, { a: -0 })).toBe(false);
    expect(samePlainData({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(samePlainData({ a: undefined }, {})).toBe(false);
    expect(samePlainData([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(samePlainData({ a: 1n }, { a: 1 })).toBe(false);
    expect(samePlainData(new Date(0), new Date(0))).toBe(false);
    // against JSON with the same conventions, over random plain values
    const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : Object.is(x, -0) ? '-0' : x));
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (x, y) => {
        expect(samePlainData(x, structuredClone(x))).toBe(true);
        if (json(x) !== json(y)) expect(samePlainData(x, y)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
