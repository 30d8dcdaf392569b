import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Atr } from './atr.js';
import { Bollinger } from './bollinger.js';
import { Ema } from './ema.js';
import { IndicatorError } from './errors.js';
import { Macd } from './macd.js';
import { RollingRange } from './range.js';
import { Rsi } from './rsi.js';
import { Slope } from './slope.js';
import { Sma } from './sma.js';
import type { StreamingIndicator } from './types.js';
import { Vwap } from './vwap.js';

interface Bar {
  h: number;
  l: number;
  c: number;
  v: number;
}

const barArb = fc
  .tuple(fc.integer({ min: 1000, max: 200000 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 10000 }))
  .map(([mid, up, down, v]): Bar => ({ h: (mid + up) / 100, l: (mid - down) / 100, c: (mid + up - down) / 100, v }));

type Any = StreamingIndicator<unknown> & { update(...xs: number[]): number };
const makers: [string, () => Any, (ind: Any, b: Bar) => number][] = [
  ['sma', () => new Sma(7) as unknown as Any, (i, b) => i.update(b.c)],
  ['ema', () => new Ema(7) as unknown as Any, (i, b) => i.update(b.c)],
  ['rsi', () => new Rsi(5) as unknown as Any, (i, b) => i.update(b.c)],
  ['atr', () => new Atr(5) as unknown as Any, (i, b) => i.update(b.h, b.l, b.c)],
  ['bollinger', () => new Bollinger(6, 2) as unknown as Any, (i, b) => i.update(b.c)],
  ['macd', () => new Macd(3, 8, 4) as unknown as Any, (i, b) => i.update(b.c)],
  ['vwap', () => new Vwap() as unknown as Any, (i, b) => i.update(b.h, b.l, b.c, b.v)],
  ['slope', () => new Slope(6) as unknown as Any, (i, b) => i.update(b.c)],
  ['range', () => new RollingRange(6) as unknown as Any, (i, b) => i.update(b.h, b.l)],
];

describe.each(makers)('%s: common contract', (_name, make, feed) => {
  it('snapshot -> JSON -> restore continues bit-identically (property)', () => {
    fc.assert(
      fc.property(fc.array(barArb, { minLength: 1, maxLength: 60 }), fc.nat(), (bars, cut) => {
        const k = cut % bars.length;
        const a = make();
        for (const b of bars.slice(0, k)) feed(a, b);
        const b2 = make();
        b2.restore(JSON.parse(JSON.stringify(a.snapshot())));
        expect(b2.count).toBe(a.count);
        expect(Object.is(b2.value, a.value)).toBe(true);
        for (const b of bars.slice(k)) expect(Object.is(feed(b2, b), feed(a, b))).toBe(true);
        expect(b2.snapshot()).toEqual(a.snapshot());
      }),
      { numRuns: 100 },
    );
  });

  it('reset forgets everything', () => {
    const a = make();
    const bars = fc.sample(barArb, { numRuns: 30, seed: 7 });
    const first = bars.map((b) => feed(a, b));
    a.reset();
    expect(a.count).toBe(0);
    expect(a.isReady).toBe(false);
    expect(Number.isNaN(a.value)).toBe(true);
    const again = bars.map((b) => feed(a, b));
    expect(again).toEqual(first);
  });

  it('NaN until ready, count counts updates, rejects non-finite input without changing state', () => {
    const a = make();
    const bars = fc.sample(barArb, { numRuns: 40, seed: 3 });
    for (const b of bars) {
      const v = feed(a, b);
      expect(Number.isNaN(v)).toBe(!a.isReady);
    }
    expect(a.count).toBe(40);
    const before = JSON.stringify(a.snapshot());
    expect(() => feed(a, { h: Number.NaN, l: 1, c: Number.NaN, v: 1 })).toThrowError(IndicatorError);
    expect(() => feed(a, { h: Number.POSITIVE_INFINITY, l: 1, c: Number.POSITIVE_INFINITY, v: 1 })).toThrowError(/\[InvalidInput\]/);
    expect(JSON.stringify(a.snapshot())).toBe(before);
  });

  it('restore rejects a foreign or corrupt snapshot and leaves the state untouched', () => {
    const a = make();
    for (const b of fc.sample(barArb, { numRuns: 10, seed: 5 })) feed(a, b);
    const before = JSON.stringify(a.snapshot());
    expect(() => a.restore({ kind: 'nope' })).toThrowError(/\[InvalidState\]/);
    const corrupt = { ...(a.snapshot() as Record<string, unknown>), count: -1 };
    expect(() => a.restore(corrupt)).toThrowError(/\[InvalidState\]/);
    expect(JSON.stringify(a.snapshot())).toBe(before);
  });
});

describe('parameters', () => {
  it.each([
    ['Sma(0)', () => new Sma(0)],
    ['Ema(1.5)', () => new Ema(1.5)],
    ['Rsi(1)', () => new Rsi(1)],
    ['Slope(1)', () => new Slope(1)],
    ['Bollinger(20, -1)', () => new Bollinger(20, -1)],
    ['Macd(26, 12, 9)', () => new Macd(26, 12, 9)],
    ['RollingRange(NaN)', () => new RollingRange(Number.NaN)],
  ])('%s is an InvalidParameter error', (_n, fn) => {
    expect(fn).toThrowError(IndicatorError);
    expect(fn).toThrowError(/\[InvalidParameter\]/);
  });

  it('a snapshot of other parameters is refused', () => {
    expect(() => new Sma(5).restore(new Sma(6).snapshot())).toThrowError('[InvalidState] Sma restore: period is 6 but this indicator has 5');
  });
});

describe('against naive references', () => {
  it('slope equals a from-scratch least-squares fit over long streams (drift-free resync)', () => {
    const s = new Slope(30);
    const ys: number[] = [];
    let x = 10000;
    for (let i = 0; i < 50000; i++) {
      x += ((i * 7919) % 13) - 6;
      const y = x / 100;
      ys.push(y);
      const got = s.update(y);
      if (i < 29) continue;
      const w = ys.slice(-30);
      const mx = 14.5;
      const my = w.reduce((a, b) => a + b, 0) / 30;
      let num = 0;
      let den = 0;
      w.forEach((v, j) => {
        num += (j - mx) * (v - my);
        den += (j - mx) ** 2;
      });
      expect(Math.abs(got - num / den)).toBeLessThan(1e-11);
    }
  });

  it('range equals max(high) - min(low) of the window (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(barArb, { maxLength: 80 }), (p, bars) => {
        const r = new RollingRange(p);
        bars.forEach((b, i) => {
          const v = r.update(b.h, b.l);
          if (i + 1 < p) return expect(Number.isNaN(v)).toBe(true);
          const w = bars.slice(i + 1 - p, i + 1);
          expect(v).toBe(Math.max(...w.map((x) => x.h)) - Math.min(...w.map((x) => x.l)));
        });
      }),
    );
  });

  it('vwap is sum(typical * volume) / sum(volume) since the last reset, NaN while volume is 0', () => {
    const v = new Vwap();
    expect(Number.isNaN(v.update(10, 8, 9, 0))).toBe(true);
    expect(v.isReady).toBe(false);
    expect(v.update(12, 9, 12, 100)).toBe(11);
    expect(v.update(15, 12, 12, 300)).toBeCloseTo((11 * 100 + 13 * 300) / 400, 12);
    v.reset();
    expect(v.update(3, 3, 3, 1)).toBe(3);
    expect(() => v.update(3, 3, 3, -1)).toThrowError('[InvalidInput] Vwap: volume must be >= 0, got -1');
  });

  it('range rejects high below low', () => {
    expect(() => new RollingRange(3).update(1, 2)).toThrowError('[InvalidInput] RollingRange: high 1 is below low 2');
  });
});
