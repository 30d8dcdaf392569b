import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/data/util.js';
import { allocColumns } from './columns.js';
import type { BarColumns } from './columns.js';
import { barFileSummary, decodeBarsParquet, encodeBarsParquet } from './parquet.js';

const NAMES = ['open_time_ns', 'close_time_ns', 'open', 'high', 'low', 'close', 'volume'] as const;
const KEYS = ['openTimeNs', 'closeTimeNs', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Bars with awkward values: negative and extreme times, -0, subnormal and huge doubles. */
function awkward(n: number): BarColumns {
  const c = allocColumns('BRK.B', '1m', n);
  for (let i = 0; i < n; i++) {
    c.openTimeNs[i] = -9_000_000_000_000_000_000n + BigInt(i) * 123_456_789_012_345n;
    c.closeTimeNs[i] = (c.openTimeNs[i] as bigint) + 60_000_000_000n;
    c.open[i] = i % 3 === 0 ? 5e-324 : 0.1 * i;
    c.high[i] = 1.7976931348623157e308;
    c.low[i] = i % 2 === 0 ? -0 : 126.35;
    c.close[i] = Math.PI * i;
    c.volume[i] = 2 ** 53 + i * 2;
  }
  return c;
}

function ab(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('encodeBarsParquet (own writer)', () => {
  it('writes files that hyparquet reads back exactly through its generic path', async () => {
    for (const n of [0, 1, 2, 15, 16, 1000]) {
      const c = awkward(n);
      const bytes = encodeBarsParquet(c);
      const md = parquetMetadata(ab(bytes));
      expect(Number(md.num_rows)).toBe(n);
      expect(md.schema.map((e) => e.name)).toEqual(['root', ...NAMES]);
      expect(md.key_value_metadata).toEqual([
        { key: 'axon_layout', value: 'plain-single-page-v1' },
        { key: 'symbol', value: 'BRK.B' },
        { key: 'timeframe', value: '1m' },
      ]);
      const cols = new Map<string, unknown[]>();
      await parquetRead({ file: ab(bytes), onChunk: (ch) => cols.set(ch.columnName, [...(cols.get(ch.columnName) ?? []), ...Array.from(ch.columnData as ArrayLike<unknown>)]) });
      NAMES.forEach((name, k) => {
        const want = Array.from(c[KEYS[k] as (typeof KEYS)[number]] as ArrayLike<unknown>);
        const got = cols.get(name) ?? [];
        expect(got.length).toBe(n);
        got.forEach((v, i) => expect(Object.is(v, want[i])).toBe(true));
      });
      const summary = barFileSummary(bytes, 'x');
      expect(summary).toEqual({ rows: n, lastOpenTimeNs: n > 0 ? c.openTimeNs[n - 1] : undefined, symbol: 'BRK.B', timeframe: '1m' });
      const fast = await decodeBarsParquet(bytes, 'x', { symbol: 'BRK.B' });
      for (const key of KEYS) expect(Array.from(fast[key] as ArrayLike<unknown>)).toEqual(Array.from(c[key] as ArrayLike<unknown>));
    }
  });

  it('writes files that DuckDB reads with the same values and statistics', async () => {
    const c = awkward(700);
    const path = join(tmp.dir, 'a.parquet');
    writeFileSync(path, encodeBarsParquet(c));
    writeFileSync(join(tmp.dir, 'empty.parquet'), encodeBarsParquet(awkward(0)));
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const rows = (await con.runAndReadAll(`SELECT ${NAMES.map((n) => `${n}::VARCHAR`).join(', ')} FROM read_parquet('${path}')`)).getRows();
      expect(rows.length).toBe(700);
      rows.forEach((r, i) => {
        expect(BigInt(r[0] as string)).toBe(c.openTimeNs[i]);
        expect(BigInt(r[1] as string)).toBe(c.closeTimeNs[i]);
        for (let k = 2; k < 7; k++) expect(Number(r[k] as string)).toBe(c[KEYS[k] as 'open'][i]);
      });
      const stats = (await con.runAndReadAll(`SELECT stats_min_value::VARCHAR, stats_max_value::VARCHAR FROM parquet_metadata('${path}') WHERE path_in_schema = 'open_time_ns'`)).getRows();
      expect(stats).toEqual([[String(c.openTimeNs[0]), String(c.openTimeNs[699])]]);
      expect((await con.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet('${join(tmp.dir, 'empty.parquet')}')`)).getRows()).toEqual([[0]]);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });

  it('refuses a length beyond the columns or not a count', () => {
    const c = awkward(3);
    expect(() => encodeBarsParquet({ ...c, length: 4 })).toThrow(/\[InvalidInput\] BRK.B: column open_time_ns has 3 values, length says 4/);
    expect(() => encodeBarsParquet({ ...c, length: 1.5 })).toThrow(/\[InvalidInput\]/);
  });
});
