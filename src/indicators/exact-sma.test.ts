import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSma, CrossDetector, ExactSma, priceToRaw } from './exact-sma.js';
import { Sma } from './sma.js';

const data = new URL('../../data/', import.meta.url);

describe('priceToRaw', () => {
  it('scales exactly and refuses prices with more decimals', () => {
    expect(priceToRaw(126.39, 2)).toBe(12639);
    expect(priceToRaw(0.3, 1)).toBe(3);
    expect(priceToRaw(1455.219971, 6)).toBe(1455219971);
    expect(() => priceToRaw(126.395, 2)).toThrowError('[InvalidInput] price 126.395 is not an exact multiple of 1e-2 within 2^53');
    expect(() => priceToRaw(1e300, 2)).toThrowError(/InvalidInput/);
  });
});

describe('ExactSma', () => {
  it('keeps the exact window sum and switches to bigint beyond 2^53 and back', () => {
    const s = new ExactSma(3, 0);
    const big = 2 ** 52;
    s.updateRaw(big);
    s.updateRaw(big);
    expect(Number.isNaN(s.sumNumber)).toBe(true);
    expect(s.sumRaw).toBe(2n * BigInt(big));
    s.updateRaw(big + 1);
    expect(s.sumRaw).toBe(3n * BigInt(big) + 1n);
    s.updateRaw(1);
    s.updateRaw(1);
    expect(s.sumRaw).toBe(BigInt(big) + 3n);
    expect(s.sumNumber).toBe(big + 3);
    const r = new ExactSma(3, 0);
    r.restore(JSON.parse(JSON.stringify(s.snapshot())));
    expect(r.sumRaw).toBe(s.sumRaw);
  });

  it('sum matches a bigint reference for any stream (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), { maxLength: 60 }), (p, xs) => {
        const s = new ExactSma(p, 2);
        xs.forEach((x, i) => {
          s.updateRaw(x);
          const w = xs.slice(Math.max(0, i + 1 - p), i + 1);
          expect(s.sumRaw).toBe(w.reduce((a, b) => a + BigInt(b), 0n));
        });
      }),
    );
  });

  it('compareSma is exact: equal means compare equal even where float averages differ', () => {
    const a = new ExactSma(3, 1);
    const b = new ExactSma(2, 1);
    for (const x of [0.1, 0.2, 0.3]) a.update(x);
    for (const x of [0.1, 0.3]) b.update(x);
    expect(compareSma(a, b)).toBe(0);
    expect((0.1 + 0.2 + 0.3) / 3 === (0.1 + 0.3) / 2).toBe(false); // what float compare would say
    expect(() => compareSma(a, new ExactSma(2, 2))).toThrowError(/\[PrecisionMismatch\]/);
    expect(() => compareSma(a, new ExactSma(2, 1))).toThrowError(/\[InvalidState\] compareSma: both averages must be ready/);
  });
});

describe('CrossDetector', () => {
  it('cross up needs fast <= slow before and fast > slow now; a tie is not a cross', () => {
    const c = new CrossDetector(1, 2, 0);
    expect(c.update(5)).toBe(0); // slow not ready
    expect(c.update(5)).toBe(0); // first comparison: tie
    expect(c.relation).toBe(0);
    expect(c.update(6)).toBe(1); // tie -> above: cross up
    expect(c.update(6)).toBe(0); // 6 vs 6: tie, from above: no cross down
    expect(c.update(5)).toBe(-1); // tie -> below: cross down
    expect(c.update(5)).toBe(0);
  });

  it('reproduces the peer-parity result on spx_1d_2000_2020.csv: 88 trades, final equity 164028.6204', () => {
    const rows = readFileSync(new URL('spx_1d_2000_2020.csv', data), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const det = new CrossDetector(10, 30, 6);
    let cash = 100000;
    let units = 0;
    let trades = 0;
    let pending: -1 | 0 | 1 = 0;
    for (const r of rows) {
      const [, open, , , close] = r as [number, number, number, number, number];
      if (pending === 1 && units === 0) {
        units = cash / open;
        cash = 0;
        trades++;
      } else if (pending === -1 && units > 0) {
        cash = units * open;
        units = 0;
      }
      pending = det.update(close);
    }
    const last = (rows[rows.length - 1] as number[])[4] as number;
    expect(trades).toBe(88);
    expect((cash + units * last).toFixed(4)).toBe('164028.6204');
  });

  it('on SPY minute closes, exact SMA(10)/SMA(30) ties exist where float averages disagree', () => {
    const closes = gunzipSync(readFileSync(new URL('spy_1m_2011-01+03_utc.csv.gz', data)))
      .toString('utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[4]));
    const det = new CrossDetector(10, 30, 2);
    const f = new Sma(10);
    const s = new Sma(30);
    let ties = 0;
    let floatNotEqual = 0;
    for (const c of closes) {
      det.update(c);
      const fv = f.update(c);
      const sv = s.update(c);
      if (det.relation === 0) {
        ties++;
        if (fv !== sv) floatNotEqual++;
        // the tie is real: 3 * sum10 === sum30 in exact integers
        expect(det.fast.sumRaw * 3n).toBe(det.slow.sumRaw);
      }
    }
    expect(ties).toBeGreaterThan(0);
    expect(floatNotEqual).toBeGreaterThan(0);
  });
});
