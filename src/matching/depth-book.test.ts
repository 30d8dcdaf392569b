import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DepthBook } from './depth-book.js';
import { BUY, SELL, type SideCode } from './order-book.js';

describe('DepthBook', () => {
  it('agrees with a plain Map book on best, levels and quantities, inside and outside its tick window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<SideCode>(BUY, SELL), fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 3 })), { maxLength: 300 }),
        (ops) => {
          // a 16-tick window around the first price: most prices fall outside it
          const book = new DepthBook(16);
          const ref: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
          for (const [side, ticks, lots] of ops) {
            book.set(side, ticks, lots);
            if (lots === 0) ref[side].delete(ticks);
            else ref[side].set(ticks, lots);
            for (const s of [BUY, SELL] as const) {
              const prices = [...ref[s].keys()].sort((a, b) => (s === BUY ? b - a : a - b));
              expect(book.levels(s)).toBe(prices.length);
              expect(book.best(s)).toBe(prices.length === 0 ? Number.NaN : prices[0]);
              expect(book.bestLots(s)).toBe(prices.length === 0 ? 0 : ref[s].get(prices[0] as number));
              const seen: [number, number][] = [];
              book.forEachLevel(s, (p, l) => void seen.push([p, l]));
              expect(seen).toEqual(prices.map((p) => [p, ref[s].get(p)]));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('clear empties both sides', () => {
    const b = new DepthBook();
    b.set(BUY, 100, 5);
    b.set(SELL, 101, 5);
    b.clear();
    expect([b.best(BUY), b.best(SELL), b.levels(BUY), b.lotsAt(SELL, 101)]).toEqual([Number.NaN, Number.NaN, 0, 0]);
  });
});
