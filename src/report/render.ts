import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { drawdownSeries } from '../analytics/drawdown.js';
import { toEquityColumns } from '../analytics/equity.js';
import type { EquityInput, PerformanceStats, TradeRecord } from '../analytics/types.js';
import { AxonError } from '../core/errors.js';
import { aggregateCandles, aggregateLine, bucketStart, chooseBucketWidth, nsToSeconds } from './downsample.js';
import { ReportError } from './errors.js';
import { escapeHtml, formatDurationNs, formatNumber, formatPercent, formatTimeNs, jsonForScript } from './html.js';
import { PAGE_SCRIPT } from './page-script.js';

/** One symbol's candles in columns; times epoch ns, strictly ascending. */
export interface ReportCandles {
  symbol: string;
  timeNs: BigInt64Array | readonly bigint[];
  open: Float64Array | readonly number[];
  high: Float64Array | readonly number[];
  low: Float64Array | readonly number[];
  close: Float64Array | readonly number[];
}

/** Everything a report shows. */
export interface ReportInput {
  /** Page title and heading. */
  title: string;
  /** Run metadata shown as a table in insertion order (strategy, params, data range, ...). */
  meta: Record<string, string>;
  stats: PerformanceStats;
  equity: EquityInput;
  trades: readonly TradeRecord[];
  candles: readonly ReportCandles[];
}

/** Limits of `renderReport`. */
export interface ReportOptions {
  /** Most candles (and equity points) drawn per chart; more are aggregated into larger time buckets. Default 20000. */
  maxCandles?: number;
  /** Most trades listed in the trade table. Default 500. */
  maxTradeRows?: number;
  /** Most trades marked on a symbol's chart (entry and exit each). Default 5000. */
  maxMarkedTrades?: number;
}

const LIBRARY_FILE = 'dist/lightweight-charts.standalone.production.js';
let libraryCache: string | undefined;

/**
 * The lightweight-charts standalone build, read once from node_modules.
 * @throws ReportError ChartLibraryMissing when the package file cannot be read
 */
export function chartLibrarySource(): string {
  if (libraryCache !== undefined) return libraryCache;
  let file = LIBRARY_FILE;
  try {
    const require = createRequire(import.meta.url);
    file = join(dirname(require.resolve('lightweight-charts/package.json')), LIBRARY_FILE);
    // a literal `</script` inside the library's strings would end the inline script element
    libraryCache = readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  } catch (e) {
    throw new ReportError('ChartLibraryMissing', `cannot read the chart library ${file}: ${(e as Error).message}`, { cause: e });
  }
  return libraryCache;
}

function invalid(detail: string): never {
  throw new ReportError('InvalidReportInput', detail);
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) invalid(`option ${name} must be a whole number >= 1, got ${value}`);
  return value;
}

interface Marker {
  time: number;
  position: 'aboveBar' | 'belowBar';
  shape: 'arrowUp' | 'arrowDown';
  color: string;
  text: string;
}

interface CandleChart {
  id: string;
  symbol: string;
  time: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  markers: Marker[];
  bucketSeconds: number;
  sourceBars: number;
  markedTrades: number;
  symbolTrades: number;
}

function validateCandles(c: ReportCandles, index: number): Float64Array {
  const where = `candles[${index}] (${JSON.stringify(c.symbol)})`;
  if (typeof c.symbol !== 'string' || c.symbol === '') invalid(`candles[${index}]: symbol must be a non-empty string`);
  const n = c.timeNs.length;
  for (const k of ['open', 'high', 'low', 'close'] as const) {
    if (c[k].length !== n) invalid(`${where}: ${k} has ${c[k].length} values but timeNs has ${n}`);
  }
  const secs = new Float64Array(n);
  let prev: bigint | undefined;
  for (let i = 0; i < n; i++) {
    const t = c.timeNs[i] as bigint;
    if (prev !== undefined && t <= prev) invalid(`${where}: time at index ${i} (${t} ns) is not after the previous one (${prev} ns)`);
    prev = t;
    secs[i] = nsToSeconds(t);
    for (const k of ['open', 'high', 'low', 'close'] as const) {
      const v = c[k][i] as number;
      if (!Number.isFinite(v)) invalid(`${where}: ${k} at index ${i} is ${v}, not a finite number`);
    }
  }
  return secs;
}

function lastAtOrBefore(times: number[], t: number): number | undefined {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0) return undefined;
  if (t <= (times[0] as number)) return times[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((times[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return times[lo];
}

function buildCandleChart(c: ReportCandles, index: number, secs: Float64Array, trades: readonly TradeRecord[], maxCandles: number, maxMarked: number): CandleChart {
  const width = secs.length === 0 ? 1 : chooseBucketWidth(secs, maxCandles);
  const cols = aggregateCandles(secs, c.open, c.high, c.low, c.close, width);
  const markers: Marker[] = [];
  const own = trades.filter((t) => t.symbol === c.symbol);
  const marked = own.slice(0, maxMarked);
  const snap = (ns: bigint): number | undefined => lastAtOrBefore(cols.time, bucketStart(nsToSeconds(ns), width));
  for (const t of marked) {
    const long = t.side === 'Long';
    const entry = snap(t.entryTimeNs);
    if (entry !== undefined) {
      markers.push({ time: entry, position: long ? 'belowBar' : 'aboveBar', shape: long ? 'arrowUp' : 'arrowDown', color: long ? '#1a7f37' : '#cf222e', text: long ? 'L' : 'S' });
    }
    if (t.exitTimeNs !== undefined) {
      const exit = snap(t.exitTimeNs);
      const loss = t.pnl !== undefined && t.pnl.trim().startsWith('-');
      if (exit !== undefined) {
        markers.push({ time: exit, position: long ? 'aboveBar' : 'belowBar', shape: long ? 'arrowDown' : 'arrowUp', color: loss ? '#cf222e' : '#0969da', text: 'x' });
      }
    }
  }
  // stable sort: markers at one time keep trade order
  markers.sort((a, b) => a.time - b.time);
  return { id: `candles-${index}`, symbol: c.symbol, ...cols, markers, bucketSeconds: width, sourceBars: secs.length, markedTrades: marked.length, symbolTrades: own.length };
}

function validateTrades(trades: readonly TradeRecord[]): void {
  trades.forEach((t, i) => {
    if (t.side !== 'Long' && t.side !== 'Short') invalid(`trades[${i}] (id ${t.id}): side must be Long or Short, got ${JSON.stringify(t.side)}`);
    if (typeof t.symbol !== 'string') invalid(`trades[${i}] (id ${t.id}): symbol must be a string`);
    if (typeof t.entryTimeNs !== 'bigint') invalid(`trades[${i}] (id ${t.id}): entryTimeNs must be a bigint`);
    if (t.exitTimeNs !== undefined && typeof t.exitTimeNs !== 'bigint') invalid(`trades[${i}] (id ${t.id}): exitTimeNs must be a bigint`);
  });
}

function bucketLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function statRows(s: PerformanceStats): [key: string, label: string, value: string][] {
  return [
    ['totalReturn', 'Total return', formatPercent(s.totalReturn)],
    ['cagr', 'CAGR', formatPercent(s.cagr)],
    ['sharpe', 'Sharpe', formatNumber(s.sharpe)],
    ['sortino', 'Sortino', formatNumber(s.sortino)],
    ['maxDrawdown', 'Max drawdown', formatPercent(s.maxDrawdown)],
    ['maxDrawdownDuration', 'Max drawdown duration', formatDurationNs(s.maxDrawdownDurationNs)],
    ['winRate', 'Win rate', formatPercent(s.winRate)],
    ['profitFactor', 'Profit factor', formatNumber(s.profitFactor)],
    ['exposure', 'Exposure (time in market)', formatPercent(s.exposure)],
    ['trades', 'Trades', String(s.trades)],
    ['closedTrades', 'Closed trades', String(s.closedTrades)],
    ['startEquity', 'Start equity', formatNumber(s.startEquity)],
    ['finalEquity', 'Final equity', formatNumber(s.finalEquity)],
    ['volatility', 'Volatility (annualized)', formatPercent(s.volatility)],
    ['calmar', 'Calmar', formatNumber(s.calmar)],
    ['netTradePnl', 'Net trade PnL', s.netTradePnl],
    ['totalFees', 'Fees', s.totalFees],
    ['avgTradePnl', 'Average trade PnL', formatNumber(s.avgTradePnl)],
    ['bestTrade', 'Best trade', s.bestTrade ?? 'n/a'],
    ['worstTrade', 'Worst trade', s.worstTrade ?? 'n/a'],
  ];
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}section h2{margin-top:0}
.grid{display:grid;grid-template-columns:minmax(280px,1fr) minmax(280px,1fr);gap:16px}
section,.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;height:420px}.chart.small{height:220px}
.note{color:#57606a;font-size:12px;margin:4px 0}
.trades{font-size:12px}.trades td{white-space:nowrap}
`;

/**
 * Renders one self-contained HTML report (chart library and data inline, no network): candles per symbol
 * with entry/exit marks, equity, drawdown, statistics, run metadata and the first trades. Deterministic:
 * the same input gives the same bytes.
 * @throws ReportError InvalidReportInput naming the bad field, ChartLibraryMissing
 * @throws AnalyticsError InvalidEquity on a malformed equity curve
 */
export function renderReport(input: ReportInput, options: ReportOptions = {}): string {
  const maxCandles = checkLimit('maxCandles', options.maxCandles, 20_000);
  const maxTradeRows = checkLimit('maxTradeRows', options.maxTradeRows, 500);
  const maxMarked = checkLimit('maxMarkedTrades', options.maxMarkedTrades, 5000);
  if (typeof input.title !== 'string') invalid('title must be a string');
  for (const [k, v] of Object.entries(input.meta)) {
    if (typeof v !== 'string') invalid(`meta ${JSON.stringify(k)} must be a string, got ${typeof v}`);
  }
  validateTrades(input.trades);
  const seen = new Set<string>();
  const candleSecs = input.candles.map((c, i) => {
    const secs = validateCandles(c, i);
    if (seen.has(c.symbol)) invalid(`candles[${i}]: symbol ${JSON.stringify(c.symbol)} appears twice`);
    seen.add(c.symbol);
    return secs;
  });
  const cols = toEquityColumns(input.equity);
  const dd = drawdownSeries(cols);
  const library = chartLibrarySource();

  const candleCharts = input.candles.map((c, i) => buildCandleChart(c, i, candleSecs[i] as Float64Array, input.trades, maxCandles, maxMarked));
  const eqSecs = new Float64Array(cols.timeNs.length);
  for (let i = 0; i < eqSecs.length; i++) eqSecs[i] = nsToSeconds(cols.timeNs[i] as bigint);
  const eqWidth = chooseBucketWidth(eqSecs, maxCandles);
  const equityLine = aggregateLine(eqSecs, cols.equity, eqWidth, 'last');
  const ddPercent = dd.map((x) => x * 100);
  // per bucket keep the deepest drawdown so the worst point stays visible; drawn below zero
  const ddLine = aggregateLine(eqSecs, ddPercent, eqWidth, 'max');
  ddLine.value = ddLine.value.map((x) => (x === 0 ? 0 : -x));

  const data = {
    candles: candleCharts.map((c) => ({ id: c.id, time: c.time, open: c.open, high: c.high, low: c.low, close: c.close, markers: c.markers })),
    equity: equityLine,
    drawdown: ddLine,
  };

  const s = input.stats;
  const metaRows: [string, string][] = [...Object.entries(input.meta), ['Equity range (UTC)', `${formatTimeNs(cols.timeNs[0] as bigint)} to ${formatTimeNs(cols.timeNs[cols.timeNs.length - 1] as bigint)}`], ['Equity points', String(cols.timeNs.length)]];
  const shownTrades = input.trades.slice(0, maxTradeRows);
  const h = escapeHtml;
  const out: string[] = [];
  out.push('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n');
  out.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">\n`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">\n');
  out.push(`<title>${h(input.title)}</title>\n<style>${STYLE}</style>\n</head>\n<body data-rendered="false">\n<main>\n`);
  out.push(`<h1>${h(input.title)}</h1>\n<div class="grid">\n`);
  out.push('<section><h2>Statistics</h2>\n<table id="stats">\n');
  for (const [key, label, value] of statRows(s)) out.push(`<tr data-stat="${key}"><th>${h(label)}</th><td class="num">${h(value)}</td></tr>\n`);
  out.push('</table></section>\n<section><h2>Run</h2>\n<table id="meta">\n');
  for (const [k, v] of metaRows) out.push(`<tr><th>${h(k)}</th><td>${h(v)}</td></tr>\n`);
  out.push('</table></section>\n</div>\n');
  for (const c of candleCharts) {
    out.push(`<h2>${h(c.symbol)}</h2>\n<div class="card"><div class="chart" id="${c.id}" data-symbol="${h(c.symbol)}"></div>\n`);
    const notes: string[] = [];
    if (c.bucketSeconds > 1 && c.time.length < c.sourceBars) notes.push(`${c.sourceBars} bars drawn as ${c.time.length} candles of ${bucketLabel(c.bucketSeconds)}`);
    if (c.markedTrades < c.symbolTrades) notes.push(`first ${c.markedTrades} of ${c.symbolTrades} trades marked`);
    if (notes.length > 0) out.push(`<p class="note">${h(notes.join('; '))}</p>\n`);
    out.push('</div>\n');
  }
  out.push('<h2>Equity</h2>\n<div class="card"><div class="chart small" id="equity-chart"></div></div>\n');
  out.push('<h2>Drawdown</h2>\n<div class="card"><div class="chart small" id="drawdown-chart"></div>\n');
  if (equityLine.time.length < cols.timeNs.length) out.push(`<p class="note">${h(`${cols.timeNs.length} points drawn in ${bucketLabel(eqWidth)} buckets (last equity, deepest drawdown per bucket)`)}</p>\n`);
  out.push('</div>\n');
  out.push(`<h2>Trades</h2>\n<p class="note">${h(shownTrades.length < input.trades.length ? `first ${shownTrades.length} of ${input.trades.length} trades` : `${input.trades.length} trades`)}; times UTC</p>\n`);
  out.push('<div class="card"><table class="trades" id="trades">\n<tr><th class="num">#</th><th>Symbol</th><th>Side</th><th class="num">Quantity</th><th>Entry time</th><th class="num">Entry price</th><th>Exit time</th><th class="num">Exit price</th><th class="num">PnL</th><th class="num">Fees</th><th>Exit reason</th></tr>\n');
  for (const t of shownTrades) {
    const cells = [
      [String(t.id), true],
      [t.symbol, false],
      [t.side, false],
      [t.quantity, true],
      [formatTimeNs(t.entryTimeNs), false],
      [t.entryPrice, true],
      [t.exitTimeNs === undefined ? 'open' : formatTimeNs(t.exitTimeNs), false],
      [t.exitPrice ?? '', true],
      [t.pnl ?? '', true],
      [t.fees, true],
      [t.exitReason ?? '', false],
    ] as const;
    out.push(`<tr>${cells.map(([v, num]) => (num ? `<td class="num">${h(v)}</td>` : `<td>${h(v)}</td>`)).join('')}</tr>\n`);
  }
  out.push('</table></div>\n');
  out.push('<p class="note">Charts: TradingView Lightweight Charts (Apache-2.0), inlined.</p>\n</main>\n');
  out.push(`<script type="application/json" id="axon-data">${jsonForScript(data)}</script>\n`);
  out.push(`<script>${library}</script>\n<script>${PAGE_SCRIPT}</script>\n</body>\n</html>\n`);
  return out.join('');
}

/**
 * Renders the report and writes it to `file` atomically (temporary file, then rename); bad input
 * throws before anything is written.
 * @throws ReportError InvalidReportInput, ChartLibraryMissing, ReportWriteFailed
 */
export function writeReport(file: string, input: ReportInput, options: ReportOptions = {}): void {
  const html = renderReport(input, options);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof AxonError) throw e;
    throw new ReportError('ReportWriteFailed', `cannot write report ${file}: ${(e as Error).message}`, { cause: e });
  }
}
