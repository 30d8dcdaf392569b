import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeStats } from '../analytics/stats.js';
import type { TradeRecord } from '../analytics/types.js';
import { EVIL_SYMBOL, minuteBars, sampleInput } from '../../test/report/fixture.js';
import {
  aggregateCandles,
  aggregateLine,
  chooseBucketWidth,
  escapeHtml,
  formatDurationNs,
  formatPercent,
  formatNumber,
  formatTimeNs,
  jsonForScript,
  nsToSeconds,
  renderReport,
  ReportError,
  writeReport,
} from './index.js';
import type { ReportInput } from './index.js';

const S = 1_000_000_000n;

interface EmbeddedData {
  candles: { id: string; time: number[]; open: number[]; high: number[]; low: number[]; close: number[]; markers: { time: number; text: string; shape: string }[] }[];
  equity: { time: number[]; value: number[] };
  drawdown: { time: number[]; value: number[] };
}

function embedded(html: string): EmbeddedData {
  const m = /<script type="application\/json" id="axon-data">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error('no embedded data');
  return JSON.parse(m[1] as string) as EmbeddedData;
}

function smallInput(overrides: Partial<ReportInput> = {}): ReportInput {
  // 4 one-minute bars from 2024-01-02 00:00 UTC (1704153600 s)
  const t0 = 1_704_153_600n * S;
  const timeNs = [t0, t0 + 60n * S, t0 + 120n * S, t0 + 180n * S];
  const equity = timeNs.map((t, i) => ({ timeNs: t, equity: [100, 110, 88, 99][i] as number, exposure: i === 0 ? 0 : 1 }));
  const trades: TradeRecord[] = [
    { id: 1, symbol: 'ABC', side: 'Long', quantity: '1', entryTimeNs: t0 + 60n * S + 5n, entryPrice: '10', exitTimeNs: t0 + 180n * S, exitPrice: '9', pnl: '-1', fees: '0', exitReason: 'stop_loss' },
  ];
  return {
    title: 'small',
    meta: { strategy: 'test' },
    stats: computeStats(equity, trades),
    equity,
    trades,
    candles: [{ symbol: 'ABC', timeNs, open: [10, 11, 12, 11], high: [11, 12, 13, 12], low: [9, 10, 11, 10], close: [11, 12, 11, 10] }],
    ...overrides,
  };
}

describe('renderReport', () => {
  it('is deterministic: the same input gives the same bytes', () => {
    expect(renderReport(sampleInput())).toBe(renderReport(sampleInput()));
  });

  it('is self-contained: the chart library inline, no external src or href, a CSP that forbids the network', () => {
    const html = renderReport(smallInput());
    expect(html).toContain('TradingView Lightweight Charts');
    expect(html).not.toMatch(/\ssrc=["']?(?!x)/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain(`default-src 'none'`);
    expect(html.match(/<script\b/g)?.length).toBe(3);
    expect(html.match(/<\/script>/g)?.length).toBe(3);
  });

  it('escapes every user string and keeps </ out of the embedded JSON', () => {
    const html = renderReport(sampleInput());
    expect(html).not.toContain(EVIL_SYMBOL);
    expect(html).toContain(escapeHtml(EVIL_SYMBOL));
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('&lt;fast=10&gt; &amp; &quot;slow&quot;');
    const json = /<script type="application\/json" id="axon-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(json).not.toContain('</');
    expect(json.length).toBeGreaterThan(1000);
  });

  it('embeds candles in epoch seconds and snaps trade marks to the candle that holds them', () => {
    const data = embedded(renderReport(smallInput()));
    const c = data.candles[0];
    expect(c?.time).toEqual([1_704_153_600, 1_704_153_660, 1_704_153_720, 1_704_153_780]);
    expect(c?.close).toEqual([11, 12, 11, 10]);
    // entry 5 ns after the second bar's open lands on that bar; the exit on the fourth; a loss is red
    expect(c?.markers).toEqual([
      { time: 1_704_153_660, position: 'belowBar', shape: 'arrowUp', color: '#1a7f37', text: 'L' },
      { time: 1_704_153_780, position: 'aboveBar', shape: 'arrowDown', color: '#cf222e', text: 'x' },
    ]);
    // drawdown of 100, 110, 88, 99 is 0, 0, 20 %, 10 %, drawn negative in percent
    expect(data.drawdown.value.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 0, -20, -10]);
    expect(data.equity.value).toEqual([100, 110, 88, 99]);
  });

  it('downsamples more than maxCandles bars into larger OHLC buckets', () => {
    const input = smallInput();
    const data = embedded(renderReport(input, { maxCandles: 2 }));
    // at most 2 buckets: 1 s and 1 min leave 4; 5 min leaves 1 (all four bars are in 00:00-00:05)
    expect(data.candles[0]?.time).toEqual([1_704_153_600]);
    expect(data.candles[0]?.open).toEqual([10]);
    expect(data.candles[0]?.high).toEqual([13]);
    expect(data.candles[0]?.low).toEqual([9]);
    expect(data.candles[0]?.close).toEqual([10]);
    const big = sampleInput();
    const html = renderReport(big);
    const d = embedded(html);
    expect(d.candles[1]?.time.length).toBe(31_200 / 5);
    expect(html).toContain('31200 bars drawn as 6240 candles of 5 min');
    for (const c of d.candles) expect(c.time.length).toBeLessThanOrEqual(20_000);
  });

  it('renders the stats table with n/a and ∞ for undefined and unbounded values', () => {
    const input = smallInput();
    const html = renderReport({ ...input, stats: { ...input.stats, profitFactor: Number.POSITIVE_INFINITY, sharpe: Number.NaN } });
    expect(html).toContain('<tr data-stat="profitFactor"><th>Profit factor</th><td class="num">∞</td></tr>');
    expect(html).toContain('<tr data-stat="sharpe"><th>Sharpe</th><td class="num">n/a</td></tr>');
    expect(html).toContain('<tr data-stat="maxDrawdown"><th>Max drawdown</th><td class="num">20.00 %</td></tr>');
  });

  it('lists only the first maxTradeRows trades and says so', () => {
    const input = sampleInput();
    const html = renderReport(input, { maxTradeRows: 5 });
    expect(html).toContain(`first 5 of ${input.trades.length} trades`);
    expect(html.match(/<tr><td class="num">\d+<\/td>/g)?.length).toBe(5);
  });

  it('rejects bad input with an error naming the field and index', () => {
    const bad = smallInput();
    const c = bad.candles[0];
    if (c === undefined) throw new Error('fixture');
    expect(() => renderReport({ ...bad, candles: [{ ...c, close: [1, 2, 3] }] })).toThrow(/\[InvalidReportInput\] candles\[0\] \("ABC"\): close has 3 values but timeNs has 4/);
    expect(() => renderReport({ ...bad, candles: [{ ...c, high: [1, Number.NaN, 3, 4] }] })).toThrow(/high at index 1 is NaN/);
    expect(() => renderReport({ ...bad, candles: [{ ...c, timeNs: [1n, 2n, 2n, 3n] }] })).toThrow(/time at index 2 \(2 ns\) is not after/);
    expect(() => renderReport({ ...bad, candles: [c, c] })).toThrow(/symbol "ABC" appears twice/);
    expect(() => renderReport(bad, { maxCandles: 0 })).toThrow(ReportError);
    expect(() => renderReport({ ...bad, equity: [] })).toThrow(/\[InvalidEquity\]/);
  });
});

describe('writeReport', () => {
  it('writes the file atomically and writes nothing on bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-report-unit-'));
    try {
      const file = join(dir, 'report.html');
      const bad = smallInput({ candles: [{ symbol: 'X', timeNs: [1n], open: [1], high: [1], low: [1], close: [] }] });
      expect(() => writeReport(file, bad)).toThrow(ReportError);
      expect(readdirSync(dir)).toEqual([]);
      writeReport(file, smallInput());
      expect(readdirSync(dir)).toEqual(['report.html']);
      expect(() => writeReport(join(dir, 'missing', 'report.html'), smallInput())).toThrow(/\[ReportWriteFailed\] cannot write report/);
      expect(existsSync(join(dir, 'missing'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('downsampling helpers', () => {
  it('chooses the smallest ladder width that fits', () => {
    const bars = minuteBars('Z', 2, 'z');
    const secs = Float64Array.from(bars.timeNs, nsToSeconds);
    // 780 minute bars: 1 s and 1 min give 780 buckets; 5 min gives 156
    expect(chooseBucketWidth(secs, 780)).toBe(1);
    expect(chooseBucketWidth(secs, 779)).toBe(300);
    expect(chooseBucketWidth(secs, 1)).toBeGreaterThanOrEqual(7 * 86_400);
  });

  it('aggregates OHLC and lines per bucket', () => {
    const secs = Float64Array.from([0, 30, 60, 61, 119]);
    const c = aggregateCandles(secs, [1, 2, 3, 4, 5], [2, 9, 4, 5, 6], [0.5, 1, 2, 1.5, 4], [2, 3, 4, 5, 6], 60);
    expect(c).toEqual({ time: [0, 60], open: [1, 3], high: [9, 6], low: [0.5, 1.5], close: [3, 6] });
    expect(aggregateLine(secs, [1, 5, 2, 7, 3], 60, 'last')).toEqual({ time: [0, 60], value: [5, 3] });
    expect(aggregateLine(secs, [1, 5, 2, 7, 3], 60, 'max')).toEqual({ time: [0, 60], value: [5, 7] });
  });

  it('floors ns to seconds before 1970 too', () => {
    expect(nsToSeconds(1_500_000_000n)).toBe(1);
    expect(nsToSeconds(-1_500_000_000n)).toBe(-2);
    expect(nsToSeconds(-2_000_000_000n)).toBe(-2);
  });
});

describe('formatting', () => {
  it('formats values and escapes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(jsonForScript({ s: '</script>&\u2028' })).toBe('{"s":"\\u003c/script\\u003e\\u0026\\u2028"}');
    expect(JSON.parse(jsonForScript({ s: '</script>&\u2028' }))).toEqual({ s: '</script>&\u2028' });
    expect(formatTimeNs(1_704_153_600_000_000_000n)).toBe('2024-01-02 00:00:00');
    expect(formatTimeNs(1_704_153_600_123_456_789n)).toBe('2024-01-02 00:00:00.123');
    expect(formatDurationNs(36n * 3600n * S)).toBe('1.5 d');
    expect(formatDurationNs(90n * 60n * S)).toBe('1.5 h');
    expect(formatDurationNs(45n * 60n * S)).toBe('45 min');
    expect(formatPercent(0.12345)).toBe('12.35 %');
    expect(formatPercent(Number.NaN)).toBe('n/a');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('∞');
    expect(formatNumber(1.005, 3)).toBe('1.005');
  });
});
