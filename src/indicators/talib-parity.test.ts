import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Atr } from './atr.js';
import { Bollinger } from './bollinger.js';
import { Ema } from './ema.js';
import { Macd } from './macd.js';
import { RollingRange } from './range.js';
import { Rsi } from './rsi.js';
import { Slope } from './slope.js';
import { Sma } from './sma.js';

// talib is a CommonJS native addon whose `main` is the .node file, so it is loaded through require
interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}
const talib = createRequire(import.meta.url)('talib') as { execute(params: Record<string, unknown>): TalibResult };

interface Ohlcv {
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

function parseCsv(text: string): Ohlcv {
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('datetime,open,high,low,close,volume');
  const d: Ohlcv = { open: [], high: [], low: [], close: [], volume: [] };
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    d.open.push(Number(f[1]));
    d.high.push(Number(f[2]));
    d.low.push(Number(f[3]));
    d.close.push(Number(f[4]));
    d.volume.push(Number(f[5]));
  }
  return d;
}

const root = new URL('../../data/', import.meta.url);
const datasets: [string, Ohlcv][] = [
  ['talib_ref_252', parseCsv(readFileSync(new URL('talib_ref_252_undated.csv', root), 'utf8'))],
  ['spy_1m', parseCsv(gunzipSync(readFileSync(new URL('spy_1m_2011-01+03_utc.csv.gz', root))).toString('utf8'))],
];

function run(name: string, d: Ohlcv, opts: Record<string, unknown>): TalibResult {
  return talib.execute({ name, startIdx: 0, endIdx: d.close.length - 1, inReal: d.close, high: d.high, low: d.low, close: d.close, ...opts });
}

/**
 * Compares a streamed series with TA-Lib's output: NaN exactly before begIndex, then within
 * 1e-9 relative (scale = max(|a|, |b|, floor); floor guards values that are ~0 by cancellation).
 */
function expectMatch(ours: number[], ref: TalibResult, key: string, floor = 0): { maxRel: number; checked: number } {
  const out = ref.result[key] as number[];
  expect(out.length).toBe(ref.nbElement);
  expect(ours.length).toBe(ref.begIndex + ref.nbElement);
  let maxRel = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i] as number;
    if (i < ref.begIndex) {
      if (!Number.isNaN(a)) throw new Error(`${key}[${i}] = ${a} before TA-Lib's first output at ${ref.begIndex}`);
      continue;
    }
    const b = out[i - ref.begIndex] as number;
    const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor, Number.MIN_VALUE);
    if (!(rel <= 1e-9)) throw new Error(`${key}[${i}]: ours ${a} vs TA-Lib ${b} (rel ${rel})`);
    maxRel = Math.max(maxRel, rel);
  }
  return { maxRel, checked: ref.nbElement };
}

describe.each(datasets)('TA-Lib parity on %s', (_name, d) => {
  const n = d.close.length;

  it.each([2, 10, 30])('SMA(%i)', (p) => {
    const s = new Sma(p);
    const ours = d.close.map((c) => s.update(c));
    const r = expectMatch(ours, run('SMA', d, { optInTimePeriod: p }), 'outReal');
    expect(r.checked).toBe(n - p + 1);
    expect(r.maxRel).toBe(0);
  });

  it.each([2, 10, 30])('EMA(%i)', (p) => {
    const s = new Ema(p);
    const ours = d.close.map((c) => s.update(c));
    expect(expectMatch(ours, run('EMA', d, { optInTimePeriod: p }), 'outReal').maxRel).toBe(0);
  });

  it.each([2, 14, 30])('RSI(%i)', (p) => {
    const s = new Rsi(p);
    const ours = d.close.map((c) => s.update(c));
    expect(expectMatch(ours, run('RSI', d, { optInTimePeriod: p }), 'outReal').maxRel).toBe(0);
  });

  it.each([1, 14, 30])('ATR(%i)', (p) => {
    const s = new Atr(p);
    const ours = d.close.map((c, i) => s.update(d.high[i] as number, d.low[i] as number, c));
    expect(expectMatch(ours, run('ATR', d, { optInTimePeriod: p }), 'outReal').maxRel).toBe(0);
  });

  it.each([
    [20, 2],
    [5, 1],
    [10, 2.5],
  ])('BBANDS(%i, %f) with population stddev', (p, k) => {
    const s = new Bollinger(p, k);
    const upper: number[] = [];
    const lower: number[] = [];
    const middle = d.close.map((c) => {
      const m = s.update(c);
      upper.push(s.upper);
      lower.push(s.lower);
      return m;
    });
    const ref = run('BBANDS', d, { optInTimePeriod: p, optInNbDevUp: k, optInNbDevDn: k, optInMAType: 0 });
    expect(expectMatch(middle, ref, 'outRealMiddleBand').maxRel).toBe(0);
    expect(expectMatch(upper, ref, 'outRealUpperBand').maxRel).toBe(0);
    expect(expectMatch(lower, ref, 'outRealLowerBand').maxRel).toBe(0);
  });

  it.each([
    [12, 26, 9],
    [3, 10, 16],
    [5, 35, 5],
  ])('MACD(%i, %i, %i) with TA-Lib alignment', (f, sl, sg) => {
    const s = new Macd(f, sl, sg);
    const signal: number[] = [];
    const hist: number[] = [];
    const line = d.close.map((c) => {
      const v = s.update(c);
      signal.push(s.signal);
      hist.push(s.histogram);
      return v;
    });
    const ref = run('MACD', d, { optInFastPeriod: f, optInSlowPeriod: sl, optInSignalPeriod: sg });
    expect(ref.begIndex).toBe(sl + sg - 2);
    expect(expectMatch(line, ref, 'outMACD').maxRel).toBe(0);
    expect(expectMatch(signal, ref, 'outMACDSignal').maxRel).toBe(0);
    expect(expectMatch(hist, ref, 'outMACDHist').maxRel).toBe(0);
  });

  it.each([2, 14, 20, 60])('LINEARREG_SLOPE(%i) from running sums', (p) => {
    const s = new Slope(p);
    const ours = d.close.map((c) => s.update(c));
    // floor 1e-4 * price: TA-Lib's own n*Sxy - Sx*Sy cancels to ~1e-13 absolute, so slopes near 0
    // are compared to 1e-13 of the price level instead of relative to themselves
    const floor = 1e-4 * (d.close[0] as number);
    expectMatch(ours, run('LINEARREG_SLOPE', d, { optInTimePeriod: p }), 'outReal', floor);
  });

  it.each([2, 5, 20, 100])('range(%i) = MAX(high) - MIN(low)', (p) => {
    const s = new RollingRange(p);
    const ours = d.close.map((_c, i) => s.update(d.high[i] as number, d.low[i] as number));
    const hi = talib.execute({ name: 'MAX', startIdx: 0, endIdx: n - 1, inReal: d.high, optInTimePeriod: p });
    const lo = talib.execute({ name: 'MIN', startIdx: 0, endIdx: n - 1, inReal: d.low, optInTimePeriod: p });
    const diff = (hi.result['outReal'] as number[]).map((h, i) => h - ((lo.result['outReal'] as number[])[i] as number));
    expect(expectMatch(ours, { begIndex: hi.begIndex, nbElement: hi.nbElement, result: { outReal: diff } }, 'outReal').maxRel).toBe(0);
  });
});
