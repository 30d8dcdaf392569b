import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StringIndex } from './string-index.js';

describe('StringIndex (the fill ledger table)', () => {
  it('answers get, has, size and insertion order as a Map does, across growths and replacements', () => {
    // few distinct keys (so repeats and replacements happen) mixed with unicode, empty and long ones
    const key = fc.oneof(fc.integer({ min: 0, max: 300 }).map((i) => `f${i}`), fc.string({ unit: 'grapheme', maxLength: 40 }));
    const op = fc.oneof(fc.record({ set: key, v: fc.integer() }), fc.record({ get: key }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 2000 }), (ops) => {
        const t = new StringIndex<number>();
        const m = new Map<string, number>();
        for (const o of ops) {
          if ('set' in o) {
            t.set(o.set, o.v);
            m.set(o.set, o.v);
          } else {
            expect(t.get(o.get)).toBe(m.get(o.get));
            expect(t.has(o.get)).toBe(m.has(o.get));
          }
          expect(t.size).toBe(m.size);
        }
        expect(Array.from({ length: t.size }, (_, i) => [t.keyAt(i), t.valueAt(i)])).toEqual([...m]);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps 200k sequential and UUID-shaped ids apart', () => {
    const t = new StringIndex<number>();
    for (let i = 0; i < 100_000; i++) t.set(`f${i}`, i);
    for (let i = 0; i < 100_000; i++) t.set(`${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`, -i);
    expect(t.size).toBe(200_000);
    for (let i = 0; i < 100_000; i += 997) {
      expect(t.get(`f${i}`)).toBe(i);
      expect(t.get(`${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`)).toBe(-i);
    }
    expect(t.get('f100000')).toBeUndefined();
    expect(t.keyAt(100_000)).toBe('00000000-0000-4000-8000-000000000000');
  });
});
