// data suite: CSV import, store read and 100-symbol replay, each against a plain typed-array loop over
// the same bars in the same run. AXON_BENCH_ENGINES=1 also times the three Parquet engines (src/data/README.md).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetRead } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { allocColumns, concatColumns } from '../../src/data/columns.js';
import type { BarColumns } from '../../src/data/columns.js';
import { importCsv, parseBarsCsv, readTextFile } from '../../src/data/csv-import.js';
import { formatDecimal } from '../../src/data/csv-export.js';
import { replayColumns } from '../../src/data/memory-replay.js';
import { BarRecorder } from '../../src/data/recorder.js';
import { BarStore } from '../../src/data/store.js';
import { formatIsoUtc } from '../../src/data/time.js';
import { median, pair } from '../harness.js';
import type { BenchResult, BenchSuite } from '../harness.js';

const SPY = 'data/spy_1m_2011-01+03_utc.csv.gz';
const SPX = 'data/spx_1d_2000_2020.csv';
const DAY = 86_400_000_000_000n;

/** Plain loop over typed arrays: the peer every figure is compared with. */
function plainLoop(cols: readonly BarColumns[]): number {
  let s = 0;
  let t = 0n;
  for (const c of cols) {
    const o = c.open;
    const h = c.high;
    const l = c.low;
    const cl = c.close;
    const v = c.volume;
    const ot = c.openTimeNs;
    for (let i = 0; i < c.length; i++) s += (o[i] as number) + (h[i] as number) + (l[i] as number) + (cl[i] as number) + (v[i] as number);
    t += ot[c.length - 1] as bigint;
  }
  return s + Number(t & 1n);
}

async function pairAsync(subject: () => Promise<unknown>, peer: () => unknown, work: number, runs: number): Promise<{ subject: number; peer: number; ratio: number }> {
  await subject();
  peer();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = process.hrtime.bigint();
    await subject();
    a.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
    t0 = process.hrtime.bigint();
    peer();
    b.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const s = median(a);
  const p = median(b);
  return { subject: s, peer: p, ratio: s / p };
}

function syntheticCsv(base: BarColumns, copies: number): string {
  const parts: string[] = ['datetime,open,high,low,close,volume\n'];
  for (let k = 0; k < copies; k++) {
    const shift = BigInt(k) * 100n * DAY;
    for (let i = 0; i < base.length; i++) {
      parts.push(`${formatIsoUtc((base.openTimeNs[i] as bigint) + shift)},${formatDecimal(base.open[i] as number)},${formatDecimal(base.high[i] as number)},${formatDecimal(base.low[i] as number)},${formatDecimal(base.close[i] as number)},${formatDecimal(base.volume[i] as number)}\n`);
    }
  }
  return parts.join('');
}

async function engines(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const files = 200;
  const per = 1000;
  const c = allocColumns('X', '1m', per);
  for (let i = 0; i < per; i++) {
    c.openTimeNs[i] = 1_300_000_000_000_000_000n + BigInt(i) * 60_000_000_000n;
    c.closeTimeNs[i] = (c.openTimeNs[i] as bigint) + 60_000_000_000n;
    const p = Math.round((100 + Math.sin(i / 100) * 10) * 100) / 100;
    c.open[i] = p;
    c.high[i] = p + 0.05;
    c.low[i] = p - 0.05;
    c.close[i] = p + 0.01;
    c.volume[i] = (i * 37) % 10000;
  }
  const dir = mkdtempSync(join(tmpdir(), 'axon-bench-engines-'));
  const names = ['open', 'high', 'low', 'close', 'volume'] as const;
  const work = files * per;
  const time = async (fn: () => unknown): Promise<number> => {
    const xs: number[] = [];
    for (let r = 0; r < 4; r++) {
      const t0 = process.hrtime.bigint();
      await fn();
      xs.push(work / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    return median(xs.slice(1));
  };
  try {
    const hw = await time(() => {
      for (let f = 0; f < files; f++) {
        const buf = parquetWriteBuffer({
          columnData: [
            { name: 'open_time_ns', data: c.openTimeNs, type: 'INT64', nullable: false, encoding: 'PLAIN' },
            { name: 'close_time_ns', data: c.closeTimeNs, type: 'INT64', nullable: false, encoding: 'PLAIN' },
            ...names.map((n) => ({ name: n, data: c[n], type: 'DOUBLE' as const, nullable: false, encoding: 'PLAIN' as const })),
          ],
          codec: 'UNCOMPRESSED',
        });
        writeFileSync(join(dir, `h${f}.parquet`), new Uint8Array(buf));
      }
    });
    const hr = await time(async () => {
      for (let f = 0; f < files; f++) {
        const b = readFileSync(join(dir, `h${f}.parquet`));
        const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        await parquetRead({ file: ab, onChunk: () => undefined });
      }
    });
    const ww = await time(() => {
      for (let f = 0; f < files; f++) {
        const tbl = new arrow.Table({
          open_time_ns: arrow.makeVector(c.openTimeNs),
          close_time_ns: arrow.makeVector(c.closeTimeNs),
          ...Object.fromEntries(names.map((n) => [n, arrow.makeVector(c[n])])),
        });
        const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.UNCOMPRESSED).build();
        writeFileSync(join(dir, `w${f}.parquet`), pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(tbl, 'stream')), props));
      }
    });
    const wr = await time(() => {
      for (let f = 0; f < files; f++) {
        const t = arrow.tableFromIPC(pw.readParquet(readFileSync(join(dir, `w${f}.parquet`))).intoIPCStream());
        for (const n of names) t.getChild(n)?.toArray();
        t.getChild('open_time_ns')?.toArray();
      }
    });
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    const dw = await time(async () => {
      for (let f = 0; f < files; f++) {
        await con.run('CREATE OR REPLACE TEMP TABLE b(open_time_ns BIGINT, close_time_ns BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE)');
        const ap = await con.createAppender('b');
        for (let i = 0; i < per; i++) {
          ap.appendBigInt(c.openTimeNs[i] as bigint);
          ap.appendBigInt(c.closeTimeNs[i] as bigint);
          for (const n of names) ap.appendDouble(c[n][i] as number);
          ap.endRow();
        }
        ap.closeSync();
        await con.run(`COPY b TO '${join(dir, `d${f}.parquet`)}' (FORMAT parquet)`);
      }
    });
    const dr = await time(async () => {
      for (let f = 0; f < files; f++) (await con.runAndReadAll(`SELECT * FROM read_parquet('${join(dir, `d${f}.parquet`)}')`)).getColumns();
    });
    con.closeSync();
    inst.closeSync();
    const note = `${files} files x ${per} bars`;
    out.push({ name: 'engine hyparquet write', unit: 'bars/s', median: hw, runs: 3, note });
    out.push({ name: 'engine hyparquet read', unit: 'bars/s', median: hr, runs: 3, note });
    out.push({ name: 'engine parquet-wasm+arrow write', unit: 'bars/s', median: ww, runs: 3, note });
    out.push({ name: 'engine parquet-wasm+arrow read', unit: 'bars/s', median: wr, runs: 3, note });
    out.push({ name: 'engine duckdb write', unit: 'bars/s', median: dw, runs: 3, note });
    out.push({ name: 'engine duckdb read', unit: 'bars/s', median: dr, runs: 3, note });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const suite: BenchSuite = {
  name: 'data',
  async run() {
    const results: BenchResult[] = [];
    const spyText = readTextFile(SPY);
    const spy = parseBarsCsv(spyText, { symbol: 'SPY', barTime: 'end' }).bars;

    const work = mkdtempSync(join(tmpdir(), 'axon-bench-data-'));
    let k = 0;
    try {
      // the bundled files end to end, as `axon data import` does: read (gunzip), parse, validate, plan,
      // encode, write, fsync, rename, each into a fresh store; first in the suite, before the large
      // synthetic inputs below fill the heap (a CLI import runs in a fresh process)
      const spx = parseBarsCsv(readTextFile(SPX), { symbol: 'SPX' }).bars;
      for (const [label, path, cols, opts, runs] of [
        ['import SPY minute file', SPY, spy, { barTime: 'end' as const }, 7],
        ['import S&P daily file', SPX, spx, {}, 3],
      ] as const) {
        let days = 0;
        const cpuMs: number[] = [];
        const pi = await pairAsync(
          async () => {
            const cpu0 = process.cpuUsage();
            days = (await importCsv(path, { symbol: cols.symbol, store: new BarStore(join(work, 'imports', `file${k++}`)), ...opts })).days.length;
            const cpu = process.cpuUsage(cpu0);
            cpuMs.push((cpu.user + cpu.system) / 1000);
          },
          () => plainLoop([cols]),
          cols.length,
          runs,
        );
        rmSync(join(work, 'imports'), { recursive: true, force: true });
        results.push({
          name: label,
          unit: 'bars/s',
          median: pi.subject,
          runs,
          peer: 'typed-array loop',
          peerMedian: pi.peer,
          ratio: pi.ratio,
          // wall time includes waiting for the disk (file creation, fsync); CPU time is this process's own work
          note: `${cols.length} bars into ${days} day files, fresh store, fsync included; CPU ${median(cpuMs).toFixed(1)} ms per import (user+sys)${label.includes('SPY') ? '; target >= 500k/s' : ''}`,
        });
      }


      // 1. CSV parse + validate (in memory); its full import into a fresh store follows the recorder
      const csv = syntheticCsv(spy, 10);
      const csvBars = spy.length * 10;
      const parsedOnce = parseBarsCsv(csv, { symbol: 'X' }).bars;
      const p1 = pair(
        () => parseBarsCsv(csv, { symbol: 'X' }),
        () => plainLoop([parsedOnce]),
        csvBars,
        7,
        2,
      );
      results.push({ name: 'csv parse+validate', unit: 'bars/s', median: p1.subject, runs: 7, peer: 'typed-array loop', peerMedian: p1.peer, ratio: p1.ratio, note: `${csvBars} bars, ISO stamps; target >= 500k/s` });

      // 0. BarRecorder.append into typed-array buffers (no journal); the flush to Parquet is not timed
      const recorders: BarRecorder[] = [];
      const pr = pair(
        () => {
          const rec = new BarRecorder(new BarStore(join(work, `rec${recorders.length}`)));
          recorders.push(rec);
          const ot = spy.openTimeNs;
          const ct = spy.closeTimeNs;
          for (let i = 0; i < spy.length; i++) {
            rec.append('SPY', '1m', ot[i] as bigint, ct[i] as bigint, spy.open[i] as number, spy.high[i] as number, spy.low[i] as number, spy.close[i] as number, spy.volume[i] as number);
          }
          return rec;
        },
        () => plainLoop([spy]),
        spy.length,
        9,
        3,
      );
      await Promise.all(recorders.map((r) => r.flush()));
      results.push({ name: 'recorder append', unit: 'bars/s', median: pr.subject, runs: 9, peer: 'typed-array loop', peerMedian: pr.peer, ratio: pr.ratio, note: `${spy.length} bars, validated, day changes queue writes that are not awaited` });

      const csvPath = join(work, 'x.csv');
      writeFileSync(csvPath, csv);
      // stores are removed after the timed runs: deleting thousands of files is not part of an import
      const p2 = await pairAsync(
        async () => {
          await importCsv(csvPath, { symbol: 'X', store: new BarStore(join(work, 'imports', `imp${k++}`)) });
        },
        () => plainLoop([parsedOnce]),
        csvBars,
        5,
      );
      rmSync(join(work, 'imports'), { recursive: true, force: true });
      results.push({ name: 'csv import to store', unit: 'bars/s', median: p2.subject, runs: 5, peer: 'typed-array loop', peerMedian: p2.peer, ratio: p2.ratio, note: `${csvBars} bars (SPY x 10) into ${10 * 50} day files, fsync included` });

      // 100 symbols from SPY with shifted prices
      const storeDir = join(work, 'store');
      mkdirSync(storeDir);
      const store = new BarStore(storeDir);
      const symbols: string[] = [];
      const inMemory: BarColumns[] = [];
      for (let s = 0; s < 100; s++) {
        const sym = `S${String(s).padStart(3, '0')}`;
        symbols.push(sym);
        const c = concatColumns([spy]);
        c.symbol = sym;
        const f = 1 + s / 100;
        for (let i = 0; i < c.length; i++) {
          c.open[i] = Math.round((c.open[i] as number) * f * 100) / 100;
          c.high[i] = Math.round((c.high[i] as number) * f * 100) / 100;
          c.low[i] = Math.round((c.low[i] as number) * f * 100) / 100;
          c.close[i] = Math.round((c.close[i] as number) * f * 100) / 100;
        }
        for (let i = 0; i < c.length; i++) {
          c.high[i] = Math.max(c.high[i] as number, c.open[i] as number, c.close[i] as number);
          c.low[i] = Math.min(c.low[i] as number, c.open[i] as number, c.close[i] as number);
        }
        await store.write(c);
        inMemory.push(c);
      }
      const total = spy.length * 100;

      // 2. store read: every day of 20 symbols, one after another
      const readSyms = symbols.slice(0, 20);
      const p3 = await pairAsync(
        async () => {
          let n = 0;
          for (const s of readSyms) for await (const b of store.read(s)) n += b.length;
          if (n !== spy.length * 20) throw new Error(`read ${n} bars`);
        },
        () => plainLoop(inMemory.slice(0, 20)),
        spy.length * 20,
        5,
      );
      results.push({ name: 'store read', unit: 'bars/s', median: p3.subject, runs: 5, peer: 'typed-array loop', peerMedian: p3.peer, ratio: p3.ratio, note: `20 symbols x 50 day files; target >= 3M/s` });

      // 3. replay merge of 100 symbols
      const p4 = await pairAsync(
        async () => {
          let n = 0;
          let s = 0;
          for await (const b of store.replay(symbols)) {
            n += b.length;
            const c = b.close;
            for (let i = 0; i < b.length; i++) s += c[i] as number;
          }
          if (n !== total || s === 0) throw new Error(`replayed ${n} bars`);
        },
        () => plainLoop(inMemory),
        total,
        3,
      );
      results.push({ name: 'replay merge 100 symbols', unit: 'bars/s', median: p4.subject, runs: 3, peer: 'typed-array loop', peerMedian: p4.peer, ratio: p4.ratio, note: `${total} bars, 5000 day files, batch 8192; target >= 2M/s` });

      // 4. the same merge over in-memory columns (backtests from CSV files)
      const p5 = pair(
        () => {
          let n = 0;
          let s = 0;
          for (const b of replayColumns(inMemory)) {
            n += b.length;
            const c = b.close;
            for (let i = 0; i < b.length; i++) s += c[i] as number;
          }
          if (n !== total || s === 0) throw new Error(`replayed ${n} bars`);
        },
        () => plainLoop(inMemory),
        total,
        3,
        1,
      );
      results.push({ name: 'memory replay merge 100 symbols', unit: 'bars/s', median: p5.subject, runs: 3, peer: 'typed-array loop', peerMedian: p5.peer, ratio: p5.ratio, note: `${total} bars in memory, batch 8192` });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    if (process.env.AXON_BENCH_ENGINES === '1') results.push(...(await engines()));
    return results;
  },
};

export default suite;
