// builds (once) a bar store holding the SPY minute data as 100 symbols with shifted prices
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BarStore } from '../../src/data/store.js';
import { parseBarsCsv, readTextFile } from '../../src/data/csv-import.js';
import type { BarColumns } from '../../src/data/columns.js';

/** The SPY minute bars as columns. */
export function spyColumns(): BarColumns {
  return parseBarsCsv(readTextFile(join(import.meta.dirname, '..', '..', 'data', 'spy_1m_2011-01+03_utc.csv.gz')), {
    symbol: 'SPY',
    tz: 'UTC',
    barTime: 'end',
    timeframe: '1m',
  }).bars;
}

/** Copies of the SPY columns as `n` symbols `S000..`, prices scaled by 1 + j/1000 and rounded to cents. */
export function spyCopies(n: number): BarColumns[] {
  const base = spyColumns();
  const out: BarColumns[] = [];
  for (let j = 0; j < n; j++) {
    const f = 1 + j / 1000;
    const r = (x: number) => Math.round(x * f * 100) / 100;
    const c: BarColumns = {
      ...base,
      symbol: `S${String(j).padStart(3, '0')}`,
      open: base.open.map(r),
      high: base.high.map(r),
      low: base.low.map(r),
      close: base.close.map(r),
      volume: base.volume.slice(),
    };
    // keep high/low consistent after rounding
    for (let i = 0; i < c.length; i++) {
      const o = c.open[i] as number;
      const cl = c.close[i] as number;
      c.high[i] = Math.max(c.high[i] as number, o, cl);
      c.low[i] = Math.min(c.low[i] as number, o, cl);
    }
    out.push(c);
  }
  return out;
}

/** A store with `n` SPY copies, built once under the temp dir and reused. */
export async function spyStore(n = 100): Promise<{ dir: string; symbols: string[] }> {
  const dir = join(tmpdir(), `axon-bench-spy${n}`);
  const symbols = Array.from({ length: n }, (_, j) => `S${String(j).padStart(3, '0')}`);
  const done = join(dir, '.complete');
  if (!existsSync(done)) {
    mkdirSync(dir, { recursive: true });
    const store = new BarStore(dir);
    for (const c of spyCopies(n)) if (store.days(c.symbol).length === 0) await store.write(c);
    (await import('node:fs')).writeFileSync(done, 'ok');
  }
  return { dir, symbols };
}
