// a deterministic report input for the report tests: synthetic minute bars, a long-short strategy's trades
import { computeStats } from '../../src/analytics/stats.js';
import type { EquityColumns, TradeRecord } from '../../src/analytics/types.js';
import { Rng } from '../../src/core/rng.js';
import type { ReportCandles, ReportInput } from '../../src/report/render.js';

const MINUTE = 60_000_000_000n;
const DAY = 86_400_000_000_000n;
// 2024-03-04T14:30:00Z, a Monday at the NYSE open
export const START_NS = 1_709_562_600_000_000_000n;

/** A symbol name that would break the page if it were not escaped. */
export const EVIL_SYMBOL = '</script><img src=x onerror="alert(1)">&amp;';

/** Minute bars of a random walk: `days` sessions of 390 bars. */
export function minuteBars(symbol: string, days: number, seed: string, startPrice = 100): ReportCandles & { timeNs: BigInt64Array; close: Float64Array } {
  const rng = new Rng(seed);
  const n = days * 390;
  const timeNs = new BigInt64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  let price = startPrice;
  for (let i = 0; i < n; i++) {
    const day = BigInt(Math.floor(i / 390));
    timeNs[i] = START_NS + day * DAY + BigInt(i % 390) * MINUTE;
    const o = price;
    price = Math.max(1, price * (1 + rng.normal(0, 0.001)));
    open[i] = o;
    close[i] = price;
    high[i] = Math.max(o, price) * (1 + rng.uniform(0, 0.0005));
    low[i] = Math.min(o, price) * (1 - rng.uniform(0, 0.0005));
  }
  return { symbol, timeNs, open, high, low, close };
}

/** Trades every `every` bars alternating long and short, held `hold` bars, PnL from the closes. */
export function tradesOn(c: { symbol: string; timeNs: BigInt64Array; close: Float64Array }, firstId: number, every: number, hold: number): TradeRecord[] {
  const out: TradeRecord[] = [];
  let id = firstId;
  for (let i = 0; i + hold < c.timeNs.length; i += every) {
    const long = out.length % 2 === 0;
    const entry = (c.close[i] as number).toFixed(2);
    const exit = (c.close[i + hold] as number).toFixed(2);
    const cents = Math.round((Number(exit) - Number(entry)) * 100) * 10 * (long ? 1 : -1) - 2;
    out.push({
      id: id++,
      symbol: c.symbol,
      side: long ? 'Long' : 'Short',
      quantity: '10',
      entryTimeNs: c.timeNs[i] as bigint,
      entryPrice: entry,
      exitTimeNs: c.timeNs[i + hold] as bigint,
      exitPrice: exit,
      pnl: (cents / 100).toFixed(2),
      fees: '0.02',
      exitReason: i % 3 === 0 ? 'stop_loss' : 'signal',
    });
  }
  return out;
}

/** The report input the tests render: SPY (3 days) and a symbol with a hostile name (80 days, downsampled). */
export function sampleInput(): ReportInput {
  const spy = minuteBars('SPY', 3, 'spy', 510);
  const evil = minuteBars(EVIL_SYMBOL, 80, 'evil', 42);
  const trades = [...tradesOn(spy, 1, 45, 20), ...tradesOn(evil, 1000, 600, 200)];
  const n = evil.timeNs.length;
  const equity: EquityColumns = { timeNs: evil.timeNs, equity: new Float64Array(n), exposure: new Float64Array(n) };
  const rng = new Rng('equity');
  let e = 100_000;
  for (let i = 0; i < n; i++) {
    e *= 1 + rng.normal(0.00001, 0.0008);
    equity.equity[i] = e;
    equity.exposure[i] = i % 45 < 20 ? 0.95 : 0;
  }
  return {
    title: 'sma-cross <fast=10> & "slow"',
    meta: { strategy: 'sma-cross', params: 'fast=10 slow=30 <b>bold</b>', 'data range': '2024-03-04 to 2024-03-06' },
    stats: computeStats(equity, trades),
    equity,
    trades,
    candles: [spy, evil],
  };
}
