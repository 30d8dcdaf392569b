import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/data/util.js';
import { allocColumns, concatColumns, sliceColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { BarRecorder, parseJournal } from './recorder.js';
import { BarStore } from './store.js';

const MIN = 60_000_000_000n;
const T0 = 1_294_099_200_000_000_000n - 30n * MIN; // 2011-01-03T23:30:00Z

let tmp: { dir: string; cleanup: () => void };
let store: BarStore;
beforeEach(() => {
  tmp = tempDir();
  store = new BarStore(tmp.dir);
});
afterEach(() => tmp.cleanup());

async function all(symbol: string): Promise<BarColumns> {
  const parts: BarColumns[] = [];
  for await (const b of store.read(symbol)) parts.push(b);
  return concatColumns(parts);
}

function feed(rec: BarRecorder, symbol: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const t = T0 + BigInt(i) * MIN;
    rec.append(symbol, '1m', t, t + MIN, 100 + i / 8, 101 + i / 8, 99 + i / 8, 100.5 + i / 8, i);
  }
}

function journals(): string[] {
  const root = join(tmp.dir, 'journal');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.journal')).sort();
}

describe('BarRecorder', () => {
  it('buffers bars and writes each UTC day on day change and flush', async () => {
    const rec = new BarRecorder(store);
    feed(rec, 'AAA', 0, 90); // 30 bars on 2011-01-03, 60 on 2011-01-04
    feed(rec, 'BBB', 0, 10);
    expect(await rec.flush()).toBe(100);
    expect(store.days('AAA')).toEqual(['2011-01-03', '2011-01-04']);
    feed(rec, 'AAA', 90, 100);
    await rec.close();
    const a = await all('AAA');
    expect(a.length).toBe(100);
    expect(a.volume[99]).toBe(99);
    expect(a.open[7]).toBe(100 + 7 / 8);
    expect((await all('BBB')).length).toBe(10);
    expect(journals()).toEqual([]);
  });

  it('with asyncWrites writes the same day files as the synchronous commit, extends a stored day, and leaves no temp files', async () => {
    const sync = new BarRecorder(store);
    const other = tempDir();
    try {
      const asyncStore = new BarStore(other.dir, { fsync: false });
      const rec = new BarRecorder(asyncStore, { asyncWrites: { fsync: false } });
      for (const r of [sync, rec]) {
        feed(r, 'AAA', 0, 10);
        expect(await r.flush()).toBe(10);
        // interleaved symbols over three UTC days; AAA's first day is stored already and gets extended
        for (let i = 10; i < 3000; i += 100) {
          feed(r, 'AAA', i, i + 100);
          feed(r, 'BBB', i, i + 100);
        }
        expect(await r.flush()).toBe(6000);
      }
      expect(rec.backlog).toBe(0);
      for (const sym of ['AAA', 'BBB']) {
        const days = store.days(sym);
        expect(days).toEqual(['2011-01-03', '2011-01-04', '2011-01-05', '2011-01-06']);
        expect(asyncStore.days(sym)).toEqual(days);
        expect(readdirSync(asyncStore.symbolDir(sym)).sort()).toEqual(days.map((d) => `${d}.parquet`));
        for (const d of days) expect(readFileSync(asyncStore.dayFile(sym, d)).equals(readFileSync(store.dayFile(sym, d))), `${sym} ${d}`).toBe(true);
      }
    } finally {
      other.cleanup();
    }
  });

  it('a new recorder resumes into a store another writer filled: it extends the last stored day, adds new days and keeps the stored timeframe', async () => {
    // the reference: all 3000 bars in one plain store write (the store lists the directory itself)
    const cols = allocColumns('AAA', '1m', 3000);
    for (let i = 0; i < 3000; i++) {
      cols.openTimeNs[i] = T0 + BigInt(i) * MIN;
      cols.closeTimeNs[i] = T0 + BigInt(i + 1) * MIN;
      [cols.open[i], cols.high[i], cols.low[i], cols.close[i], cols.volume[i]] = [100 + i / 8, 101 + i / 8, 99 + i / 8, 100.5 + i / 8, i];
    }
    await store.write(cols);
    // an earlier run stored 2011-01-03 and part of 2011-01-04
    const earlier = sliceColumns(cols, 0, 60);
    for (const asyncWrites of [undefined, { fsync: false }] as const) {
      const other = tempDir();
      try {
        // the same history, stored again by a plain store write, then resumed by a new recorder
        const s2 = new BarStore(other.dir, { fsync: false });
        await s2.write(earlier);
        const rec = new BarRecorder(s2, asyncWrites === undefined ? {} : { asyncWrites });
        expect(() => rec.append('AAA', '5m', T0 + 60n * MIN, T0 + 65n * MIN, 1, 1, 1, 1, 1)).toThrow(/\[InvalidInput\] AAA is stored as 1m bars; cannot record 5m bars/);
        feed(rec, 'AAA', 60, 3000);
        await rec.close();
        expect(s2.days('AAA')).toEqual(['2011-01-03', '2011-01-04', '2011-01-05', '2011-01-06']);
        for (const d of s2.days('AAA')) expect(readFileSync(s2.dayFile('AAA', d)).equals(readFileSync(store.dayFile('AAA', d))), d).toBe(true);
        const got: BarColumns[] = [];
        for await (const b of s2.read('AAA')) got.push(b);
        const a = concatColumns(got);
        expect(a.length).toBe(3000);
        expect(Array.from(a.volume)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      } finally {
        other.cleanup();
      }
    }
  });

  it('with asyncWrites raises a failed write on the next flush and writes nothing half', async () => {
    const rec = new BarRecorder(store, { asyncWrites: { fsync: true } });
    feed(rec, 'AAA', 0, 40); // seals 2011-01-03 when the bars move to 2011-01-04
    // the symbol directory is a file: the day cannot be written
    writeFileSync(join(tmp.dir, 'bars'), 'not a directory');
    await expect(rec.flush()).rejects.toThrow(/\[WriteFailed\]|ENOTDIR|EEXIST/);
  });

  it('refuses out-of-order, invalid and re-timeframed bars', () => {
    const rec = new BarRecorder(store);
    feed(rec, 'AAA', 5, 6);
    expect(() => rec.append('AAA', '1m', T0, T0 + MIN, 1, 1, 1, 1, 1)).toThrow(/\[InvalidData\] AAA bar at 2011-01-03T23:30:00Z is not after the previous bar/);
    expect(() => rec.append('AAA', '1m', T0 + 9n * MIN, T0 + 10n * MIN, 1, 0.5, 1, 1, 1)).toThrow(/high 0.5 is below/);
    expect(() => rec.append('AAA', '5m', T0 + 9n * MIN, T0 + 14n * MIN, 1, 1, 1, 1, 1)).toThrow(/recorded as 1m bars/);
  });

  it('journals every bar and removes the journal after flush', async () => {
    const rec = new BarRecorder(store, { journal: true });
    feed(rec, 'AAA', 0, 20);
    expect(journals()).toHaveLength(1);
    const j = join(tmp.dir, 'journal', journals()[0] as string);
    expect(parseJournal(j, 'AAA').length).toBe(20);
    await rec.close();
    expect(journals()).toEqual([]);
    expect((await all('AAA')).length).toBe(20);
  });

  it('recovers leftover journals after a crash, ignoring a torn last line', async () => {
    const crashed = new BarRecorder(store, { journal: true });
    feed(crashed, 'AAA', 0, 50); // the day change at bar 30 queues a write that the "crash" never awaits
    // simulate the crash: no flush; the process dies while writing bar 50
    const files = journals();
    const last = join(tmp.dir, 'journal', files.at(-1) as string);
    appendFileSync(last, '1294101000000000000 1294101060000000000 106.25 107.2');
    // let the queued day-change write settle, as the OS would have finished or lost it
    await new Promise((r) => setTimeout(r, 200));
    const fresh = new BarRecorder(new BarStore(tmp.dir), { journal: true });
    const recovered = await fresh.recover();
    expect(recovered).toBeGreaterThanOrEqual(20);
    expect(journals()).toEqual([]);
    const a = await all('AAA');
    expect(a.length).toBe(50);
    expect(Array.from(a.volume)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await fresh.recover()).toBe(0);
  });

  it('recovery skips bars already in Parquet (crash after rename, before the journal was removed)', async () => {
    const rec = new BarRecorder(store, { journal: true });
    feed(rec, 'AAA', 0, 10);
    const j = join(tmp.dir, 'journal', journals()[0] as string);
    const saved = readFileSync(j);
    await rec.flush();
    writeFileSync(j, saved);
    expect(await new BarRecorder(store).recover()).toBe(0);
    expect((await all('AAA')).length).toBe(10);
    expect(journals()).toEqual([]);
  });

  it('a damaged line that is not the last is StoreCorrupt', () => {
    const rec = new BarRecorder(store, { journal: true });
    feed(rec, 'AAA', 0, 3);
    const j = join(tmp.dir, 'journal', journals()[0] as string);
    const lines = readFileSync(j, 'utf8').split('\n');
    lines[2] = (lines[2] as string).replace('100.125', '100.126');
    writeFileSync(j, lines.join('\n'));
    expect(() => parseJournal(j, 'AAA')).toThrow(/\[StoreCorrupt\] .*:3: damaged journal line/);
  });
});
