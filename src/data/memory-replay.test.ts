import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocColumns, toBar } from './columns.js';
import type { BarColumns, MergedBatch } from './columns.js';
import { replayColumns } from './memory-replay.js';

const MIN = 60_000_000_000n;
const DAY = 86_400_000_000_000n;
const T0 = 1_294_012_800_000_000_000n; // 2011-01-03T00:00:00Z

function series(symbol: string, times: readonly bigint[], tag: number): BarColumns {
  const c = allocColumns(symbol, '1m', times.length);
  times.forEach((t, i) => {
    c.openTimeNs[i] = t;
    c.closeTimeNs[i] = t + MIN;
    c.open[i] = c.high[i] = c.low[i] = c.close[i] = tag * 1000 + i + 1;
    c.volume[i] = i;
  });
  return c;
}

type Row = { t: bigint; k: number; open: number };

function drain(src: Iterable<MergedBatch>, batchSize: number): Row[] {
  const got: Row[] = [];
  for (const b of src) {
    expect(b.length).toBeGreaterThan(0);
    expect(b.length).toBeLessThanOrEqual(batchSize);
    for (let i = 0; i < b.length; i++) got.push({ t: b.openTimeNs[i] as bigint, k: b.symbolIndex[i] as number, open: b.open[i] as number });
  }
  return got;
}

describe('replayColumns', () => {
  it('merges by open time with ties in the order of the series argument', () => {
    const a = series('AAA', [0n, 1n, 2n, 3n, 4n].map((m) => T0 + m * MIN), 1);
    const b = series('BBB', [1n, 3n, 5n].map((m) => T0 + m * MIN), 2);
    const out: string[] = [];
    for (const batch of replayColumns([b, a], { batchSize: 2 })) {
      for (let i = 0; i < batch.length; i++) {
        const bar = toBar(batch, i);
        out.push(`${(bar.openTimeNs - T0) / MIN}${bar.symbol}`);
      }
    }
    expect(out).toEqual(['0AAA', '1BBB', '1AAA', '2AAA', '3BBB', '3AAA', '4AAA', '5BBB']);
  });

  it('equals a naive stable sort over days, ranges and batch sizes, before and after 1970 (property)', () => {
    // any ns (not minute-aligned) around 2011 and around the epoch (negative times)
    const time = fc.bigInt({ min: -3n * DAY, max: 4n * DAY }).map((d) => T0 + d);
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.oneof(time, fc.bigInt({ min: -2n * DAY, max: 2n * DAY })), { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 17 }),
        fc.option(fc.bigInt({ min: -2n * DAY, max: T0 + 5n * DAY })),
        fc.option(fc.bigInt({ min: -2n * DAY, max: T0 + 5n * DAY })),
        (perSeries, batchSize, from, to) => {
          const cols = perSeries.map((ts, k) => series(`S${k}`, [...ts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), k));
          const expected: Row[] = [];
          cols.forEach((c, k) => {
            for (let i = 0; i < c.length; i++) {
              const t = c.openTimeNs[i] as bigint;
              if ((from === null || t >= from) && (to === null || t < to)) expected.push({ t, k, open: c.open[i] as number });
            }
          });
          // Array.prototype.sort is stable: series order decides ties
          expected.sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : 0));
          const range = { ...(from === null ? {} : { fromNs: from }), ...(to === null ? {} : { toNs: to }), batchSize };
          expect(drain(replayColumns(cols, range), batchSize)).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('handles many series (heap) and rejects bad arguments', () => {
    const cols = Array.from({ length: 100 }, (_, k) => series(`S${k}`, Array.from({ length: 50 }, (_, i) => T0 + BigInt(i * 7 + (k % 7)) * MIN), k));
    const got = drain(replayColumns(cols, { batchSize: 333 }), 333);
    expect(got.length).toBe(5000);
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1] as Row;
      const b = got[i] as Row;
      expect(a.t < b.t || (a.t === b.t && a.k < b.k)).toBe(true);
    }
    expect(() => [...replayColumns([])]).toThrow(/at least one series/);
    expect(() => [...replayColumns([cols[0] as BarColumns, cols[0] as BarColumns])]).toThrow(/duplicates/);
    expect(() => [...replayColumns([cols[0] as BarColumns], { batchSize: 0 })]).toThrow(/batchSize 0/);
  });
});
