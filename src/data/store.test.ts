import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashTree, tempDir } from '../../test/data/util.js';
import { allocColumns, columnsFromBars, concatColumns, toBar } from './columns.js';
import type { BarColumns } from './columns.js';
import { DataError } from './errors.js';
import { BarStore } from './store.js';

const MIN = 60_000_000_000n;
const T0 = 1_294_012_800_000_000_000n; // 2011-01-03T00:00:00Z

function bars(symbol: string, startNs: bigint, n: number, stepNs = MIN, base = 100): BarColumns {
  const c = allocColumns(symbol, '1m', n);
  for (let i = 0; i < n; i++) {
    c.openTimeNs[i] = startNs + BigInt(i) * stepNs;
    c.closeTimeNs[i] = (c.openTimeNs[i] as bigint) + MIN;
    const p = base + i / 100;
    c.open[i] = p;
    c.high[i] = p + 0.25;
    c.low[i] = p - 0.25;
    c.close[i] = p + 0.1;
    c.volume[i] = i * 3;
  }
  return c;
}

async function readAll(store: BarStore, symbol: string, range = {}): Promise<BarColumns | undefined> {
  const parts: BarColumns[] = [];
  for await (const b of store.read(symbol, range)) parts.push(b);
  return parts.length === 0 ? undefined : concatColumns(parts);
}

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('BarStore write/read', () => {
  it('round-trips every column exactly and files by UTC date of the open time', async () => {
    const store = new BarStore(tmp.dir);
    const c = bars('SPY', T0 + 23n * 60n * MIN, 120); // 23:00 UTC .. 00:59 next day
    c.volume[0] = 0.1 + 0.2;
    expect(await store.write(c)).toBe(2);
    expect(store.symbols()).toEqual(['SPY']);
    expect(store.days('SPY')).toEqual(['2011-01-03', '2011-01-04']);
    expect(store.timeframeOf('SPY')).toBe('1m');
    const back = await readAll(store, 'SPY');
    expect(back?.length).toBe(120);
    for (const k of ['openTimeNs', 'closeTimeNs', 'open', 'high', 'low', 'close', 'volume'] as const) expect(Array.from(back![k] as ArrayLike<unknown>)).toEqual(Array.from(c[k] as ArrayLike<unknown>));
    expect(back!.volume[0]).toBe(0.30000000000000004);
  });

  it('reads a range [fromNs, toNs) across day files', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('SPY', T0, 3000));
    const from = T0 + 1000n * MIN;
    const to = T0 + 2500n * MIN;
    const got = await readAll(store, 'SPY', { fromNs: from, toNs: to });
    expect(got?.length).toBe(1500);
    expect(got?.openTimeNs[0]).toBe(from);
    expect(got?.openTimeNs[1499]).toBe(to - MIN);
    expect(await readAll(store, 'SPY', { fromNs: T0 + 5000n * MIN })).toBeUndefined();
  });

  it('appends to an existing day only after its last bar', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('SPY', T0, 10));
    await store.write(bars('SPY', T0 + 10n * MIN, 5));
    expect((await readAll(store, 'SPY'))?.length).toBe(15);
    const before = hashTree(tmp.dir);
    const err = await store.write(bars('SPY', T0 + 14n * MIN, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('AppendOnlyViolation');
    expect((err as DataError).message).toContain('2011-01-03T00:14:00Z');
    expect(hashTree(tmp.dir)).toEqual(before);
  });

  it('a sole writer\'s knowledge of the stored days plans the same files as listing the store, and still guards append-only and the timeframe', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('SPY', T0, 1500)); // 2011-01-03 and 2011-01-04
    const next = bars('SPY', T0 + 1500n * MIN, 2000); // extends 2011-01-04, adds 2011-01-05
    const stored = { days: new Set(store.days('SPY')), timeframe: store.timeframeOf('SPY') };
    const listed = await store.planWrite(next);
    const known = await store.planWrite(next, { stored });
    expect(known.map((f) => [f.date, f.path, f.replaces])).toEqual(listed.map((f) => [f.date, f.path, f.replaces]));
    for (let i = 0; i < known.length; i++) expect(Buffer.from(known[i]?.bytes ?? []).equals(Buffer.from(listed[i]?.bytes ?? [])), `file ${i}`).toBe(true);
    expect(known.map((f) => [f.bars, f.replaces])).toEqual([[1380, true], [620, false]]);
    await expect(store.planWrite(bars('SPY', T0 + 1490n * MIN, 2), { stored })).rejects.toThrow(/\[AppendOnlyViolation\]/);
    const fiveMin = { ...bars('SPY', T0 + 1500n * MIN, 2), timeframe: '5m' as const };
    await expect(store.planWrite(fiveMin, { stored })).rejects.toThrow(/stored as 1m bars/);
  });

  it('refuses unordered bars, invalid bars, bad symbols and a changed timeframe', async () => {
    const store = new BarStore(tmp.dir);
    const unordered = bars('SPY', T0, 3);
    unordered.openTimeNs[2] = T0;
    await expect(store.write(unordered)).rejects.toThrow(/bar 2 opens at 2011-01-03T00:00:00Z/);
    const bad = bars('SPY', T0, 3);
    bad.low[1] = 1000;
    await expect(store.write(bad)).rejects.toThrow(/\[InvalidData\] SPY bar 1 .*low 1000 is above/);
    await expect(store.write(bars('../x', T0, 1))).rejects.toThrow(/\[InvalidInput\] symbol/);
    await store.write(bars('SPY', T0, 3));
    const daily = { ...bars('SPY', T0 + 86_400_000_000_000n * 5n, 1), timeframe: '1d' as const };
    await expect(store.write(daily)).rejects.toThrow(/stored as 1m bars/);
  });

  it('a crash between temp write and rename leaves the store readable and unchanged', async () => {
    await new BarStore(tmp.dir).write(bars('SPY', T0, 2000));
    const before = hashTree(`${tmp.dir}/bars`);
    const visible = (): string[] => Object.keys(hashTree(`${tmp.dir}/bars`)).filter((p) => !p.split('/').at(-1)!.startsWith('.'));
    const crashing = new BarStore(tmp.dir, {
      beforeRename: (i) => {
        if (i === 1) throw new Error('simulated crash');
      },
    });
    // extends day 2011-01-04 (existing) and creates 2011-01-05 and -06: the first rename succeeds, the second fails
    await expect(crashing.write(bars('SPY', T0 + 2000n * MIN, 2000))).rejects.toThrow(/\[WriteFailed\].*rolled back: simulated crash/);
    expect(hashTree(`${tmp.dir}/bars`)).toEqual(before);
    expect(visible()).toEqual(Object.keys(before));
    expect((await readAll(new BarStore(tmp.dir), 'SPY'))?.length).toBe(2000);
  });

  it('a crash before any rename (temp files written) leaves the store readable and its day files unchanged', async () => {
    await new BarStore(tmp.dir).write(bars('SPY', T0, 100));
    const file = `${tmp.dir}/bars/SPY/2011-01-03.parquet`;
    const before = readFileSync(file);
    const crashing = new BarStore(tmp.dir, {
      beforeRename: () => {
        throw new Error('power cut');
      },
    });
    await expect(crashing.write(bars('SPY', T0 + 100n * MIN, 10))).rejects.toThrow(/power cut/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(new BarStore(tmp.dir).days('SPY')).toEqual(['2011-01-03']);
    expect((await readAll(new BarStore(tmp.dir), 'SPY'))?.length).toBe(100);
  });

  it('reports a corrupt day file as StoreCorrupt', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('SPY', T0, 5));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${tmp.dir}/bars/SPY/2011-01-03.parquet`, 'not parquet');
    await expect(readAll(store, 'SPY')).rejects.toThrow(/\[StoreCorrupt\].*2011-01-03\.parquet/);
  });
});

describe('BarStore.replay', () => {
  it('merges by open time with ties in the order of the symbols argument', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('AAA', T0, 5, MIN, 10));
    await store.write(bars('BBB', T0 + MIN, 3, 2n * MIN, 20));
    const out: string[] = [];
    for await (const b of store.replay(['BBB', 'AAA'], { batchSize: 2 })) {
      expect(b.length).toBeLessThanOrEqual(2);
      for (let i = 0; i < b.length; i++) {
        const bar = toBar(b, i);
        out.push(`${(bar.openTimeNs - T0) / MIN}${bar.symbol}`);
      }
    }
    expect(out).toEqual(['0AAA', '1BBB', '1AAA', '2AAA', '3BBB', '3AAA', '4AAA', '5BBB']);
  });

  it('equals a naive stable sort for random stores (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 3 * 24 * 60 }), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 17 }),
        async (perSymbol, batchSize) => {
          const t = tempDir();
          try {
            const store = new BarStore(t.dir);
            const names = perSymbol.map((_, k) => `S${k}`);
            const expected: { t: bigint; k: number; open: number }[] = [];
            for (const [k, minutes] of perSymbol.entries()) {
              const sorted = [...minutes].sort((a, b) => a - b);
              const c = allocColumns(names[k] as string, '1m', sorted.length);
              sorted.forEach((m, i) => {
                c.openTimeNs[i] = T0 + BigInt(m) * MIN;
                c.closeTimeNs[i] = T0 + BigInt(m + 1) * MIN;
                c.open[i] = c.high[i] = c.low[i] = c.close[i] = k * 1000 + i + 1;
                expected.push({ t: c.openTimeNs[i] as bigint, k, open: k * 1000 + i + 1 });
              });
              await store.write(c);
            }
            const order = [...names.keys()].reverse();
            const rank = new Map(order.map((k, r) => [k, r]));
            expected.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : (rank.get(a.k) as number) - (rank.get(b.k) as number)));
            const got: { t: bigint; k: number; open: number }[] = [];
            for await (const b of store.replay(order.map((k) => names[k] as string), { batchSize })) {
              for (let i = 0; i < b.length; i++) got.push({ t: b.openTimeNs[i] as bigint, k: order[b.symbolIndex[i] as number] as number, open: b.open[i] as number });
            }
            expect(got).toEqual(expected);
          } finally {
            t.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('restricts to a time range and rejects bad arguments', async () => {
    const store = new BarStore(tmp.dir);
    await store.write(bars('AAA', T0, 100));
    let n = 0;
    for await (const b of store.replay(['AAA'], { fromNs: T0 + 10n * MIN, toNs: T0 + 20n * MIN })) n += b.length;
    expect(n).toBe(10);
    const drain = async (s: string[], o = {}): Promise<void> => {
      for await (const _ of store.replay(s, o)) void _;
    };
    await expect(drain([])).rejects.toThrow(/at least one symbol/);
    await expect(drain(['AAA', 'AAA'])).rejects.toThrow(/duplicates/);
    await expect(drain(['ZZZ'])).rejects.toThrow(/\[FileNotFound\] no bars for ZZZ/);
    await expect(drain(['AAA'], { batchSize: 0 })).rejects.toThrow(/batchSize/);
  });
});

describe('BarStore.sql and helpers', () => {
  it('queries the bars view with DuckDB', async () => {
    const store = new BarStore(tmp.dir);
    expect((await store.sql('select count(*) as n from bars')).rows).toEqual([['0']]);
    await store.write(bars('AAA', T0, 30));
    await store.write(bars('BBB', T0, 20));
    const r = await store.sql('select symbol, count(*) as n, min(open_time) as first from bars group by symbol order by symbol');
    expect(r.columns).toEqual(['symbol', 'n', 'first']);
    expect(r.rows).toEqual([
      ['AAA', '30', '2011-01-03 00:00:00'],
      ['BBB', '20', '2011-01-03 00:00:00'],
    ]);
    await expect(store.sql('select nope from bars')).rejects.toThrow(/\[QueryFailed\]/);
  });

  it('toBar and columnsFromBars convert both ways', () => {
    const c = bars('AAA', T0, 3);
    const b = toBar(c, 2);
    expect(b).toMatchObject({ symbol: 'AAA', timeframe: '1m', openTimeNs: T0 + 2n * MIN, open: 100.02 });
    expect(Object.isFrozen(b)).toBe(true);
    const back = columnsFromBars([toBar(c, 0), toBar(c, 1), b]);
    expect(Array.from(back.close)).toEqual(Array.from(c.close));
    expect(() => toBar(c, 3)).toThrow(/outside 0..2/);
  });
});

describe('Parquet decoding', () => {
  it('reads bar files from other writers (dictionary, snappy) through hyparquet', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const { decodeBarsParquet, encodeBarsParquet } = await import('./parquet.js');
    const c = bars('EXT', T0, 50);
    const foreign = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'open_time_ns', data: c.openTimeNs, type: 'INT64' },
          { name: 'close_time_ns', data: c.closeTimeNs, type: 'INT64' },
          ...(['open', 'high', 'low', 'close', 'volume'] as const).map((name) => ({ name, data: Array.from(c[name]), type: 'DOUBLE' as const })),
        ],
        rowGroupSize: 20,
      }),
    );
    const fast = await decodeBarsParquet(encodeBarsParquet(c), 'own', { symbol: 'EXT' });
    const slow = await decodeBarsParquet(foreign, 'foreign', { symbol: 'EXT', timeframe: '1m' });
    for (const got of [fast, slow]) {
      expect(got.length).toBe(50);
      for (const k of ['openTimeNs', 'closeTimeNs', 'open', 'high', 'low', 'close', 'volume'] as const) expect(Array.from(got[k] as ArrayLike<unknown>)).toEqual(Array.from(c[k] as ArrayLike<unknown>));
    }
    expect(slow.symbol).toBe('EXT');
  });
});
