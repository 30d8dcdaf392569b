import { Decimal } from '../core/decimal.js';
import { AxonError } from '../core/errors.js';
import { summarize } from './drawdown.js';
import { toEquityColumns, validateEquity } from './equity.js';
import { AnalyticsError } from './errors.js';
import { periodReturns, YEAR_NS } from './returns.js';
import type { EquityInput, PerformanceStats, StatsOptions, TradeRecord } from './types.js';

function exact(trade: TradeRecord, field: 'pnl' | 'fees', text: string): Decimal {
  try {
    return Decimal.of(text);
  } catch (e) {
    if (e instanceof AxonError) throw new AnalyticsError('InvalidTrade', `trade ${trade.id} (${trade.symbol}): ${field} ${JSON.stringify(text)} is not a decimal`, { cause: e });
    throw e;
  }
}

function checkOptions(opts: StatsOptions): void {
  if (opts.periodsPerYear !== undefined && !(Number.isFinite(opts.periodsPerYear) && opts.periodsPerYear > 0)) {
    throw new AnalyticsError('InvalidOption', `periodsPerYear must be a finite number > 0, got ${opts.periodsPerYear}`);
  }
  if (opts.riskFreeRate !== undefined && !Number.isFinite(opts.riskFreeRate)) {
    throw new AnalyticsError('InvalidOption', `riskFreeRate must be a finite number, got ${opts.riskFreeRate}`);
  }
}

interface ReturnStats {
  volatility: number;
  sharpe: number;
  sortino: number;
}

function returnStats(returns: Float64Array, periodsPerYear: number, riskFreeRate: number): ReturnStats {
  const n = returns.length;
  const undefinedStats = { volatility: Number.NaN, sharpe: Number.NaN, sortino: Number.NaN };
  if (n < 2) return undefinedStats;
  const rfPerPeriod = riskFreeRate / periodsPerYear;
  // welford: one pass, stable for long series
  let mean = 0;
  let m2 = 0;
  let downsideSq = 0;
  for (let i = 0; i < n; i++) {
    const r = returns[i] as number;
    if (!Number.isFinite(r)) return undefinedStats;
    const d = r - mean;
    mean += d / (i + 1);
    m2 += d * (r - mean);
    const excess = r - rfPerPeriod;
    if (excess < 0) downsideSq += excess * excess;
  }
  let std = Math.sqrt(m2 / (n - 1));
  let downside = Math.sqrt(downsideSq / n);
  // constant returns leave rounding residue (~1e-16 relative) that would make a huge ratio: treat as zero
  const noise = 1e-9 * Math.sqrt(mean * mean + m2 / n);
  if (std <= noise) std = 0;
  if (downside <= noise) downside = 0;
  const excessMean = mean - rfPerPeriod;
  const annual = Math.sqrt(periodsPerYear);
  const sharpe = std > 0 ? (excessMean / std) * annual : Number.NaN;
  let sortino: number;
  if (downside > 0) sortino = (excessMean / downside) * annual;
  else sortino = excessMean > 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  return { volatility: std * annual, sharpe, sortino };
}

/**
 * Performance statistics of an equity curve and its trades; O(points + trades). Sharpe, Sortino and
 * volatility use daily returns (UTC day-end samples, annualized by sqrt(252)) for intraday or daily data
 * and bar-to-bar returns for coarser data; the standard deviation is the sample one (ddof = 1); CAGR
 * runs over calendar time in 365.25-day years; profit factor and win rate count closed trades only.
 * @throws AnalyticsError InvalidEquity, InvalidTrade or InvalidOption naming the bad field
 */
export function computeStats(equity: EquityInput, trades: readonly TradeRecord[], opts: StatsOptions = {}): PerformanceStats {
  checkOptions(opts);
  const cols = toEquityColumns(equity);
  validateEquity(cols);
  const n = cols.equity.length;
  const startTimeNs = cols.timeNs[0] as bigint;
  const endTimeNs = cols.timeNs[n - 1] as bigint;
  const startEquity = cols.equity[0] as number;
  const finalEquity = cols.equity[n - 1] as number;
  const growth = finalEquity / startEquity;
  const totalReturn = growth - 1;
  const years = Number(endTimeNs - startTimeNs) / Number(YEAR_NS);
  let cagr = Number.NaN;
  if (years > 0) cagr = growth > 0 ? growth ** (1 / years) - 1 : -1;

  const period = periodReturns(cols);
  const periodsPerYear = opts.periodsPerYear ?? period.periodsPerYear;
  const rs = returnStats(period.returns, periodsPerYear, opts.riskFreeRate ?? 0);
  const dd = summarize(cols.timeNs, cols.equity);

  let inMarket = 0;
  let exposureSum = 0;
  for (let i = 0; i < n; i++) {
    const x = cols.exposure[i] as number;
    if (x !== 0) inMarket++;
    exposureSum += Math.abs(x);
  }

  let closed = 0;
  let wins = 0;
  let losses = 0;
  let grossProfit = Decimal.ZERO;
  let grossLoss = Decimal.ZERO;
  let totalFees = Decimal.ZERO;
  let best: Decimal | undefined;
  let worst: Decimal | undefined;
  let holdingSum = 0n;
  for (const t of trades) {
    totalFees = totalFees.add(exact(t, 'fees', t.fees));
    if (t.pnl === undefined) continue;
    if (t.exitTimeNs === undefined) throw new AnalyticsError('InvalidTrade', `trade ${t.id} (${t.symbol}): has a pnl but no exitTimeNs`);
    if (t.exitTimeNs < t.entryTimeNs) throw new AnalyticsError('InvalidTrade', `trade ${t.id} (${t.symbol}): exitTimeNs ${t.exitTimeNs} is before entryTimeNs ${t.entryTimeNs}`);
    const pnl = exact(t, 'pnl', t.pnl);
    closed++;
    holdingSum += t.exitTimeNs - t.entryTimeNs;
    if (pnl.isPositive()) {
      wins++;
      grossProfit = grossProfit.add(pnl);
    } else if (pnl.isNegative()) {
      losses++;
      grossLoss = grossLoss.sub(pnl);
    }
    if (best === undefined || pnl.gt(best)) best = pnl;
    if (worst === undefined || pnl.lt(worst)) worst = pnl;
  }
  const net = grossProfit.sub(grossLoss);
  let profitFactor = Number.NaN;
  if (!grossLoss.isZero()) profitFactor = grossProfit.toNumber() / grossLoss.toNumber();
  else if (grossProfit.isPositive()) profitFactor = Number.POSITIVE_INFINITY;

  return {
    startTimeNs,
    endTimeNs,
    points: n,
    startEquity,
    finalEquity,
    totalReturn,
    cagr,
    volatility: rs.volatility,
    sharpe: rs.sharpe,
    sortino: rs.sortino,
    calmar: dd.maxDrawdown > 0 ? cagr / dd.maxDrawdown : Number.NaN,
    maxDrawdown: dd.maxDrawdown,
    maxDrawdownDurationNs: dd.maxDurationNs,
    returnsBasis: period.basis,
    returnPeriods: period.returns.length,
    periodsPerYear,
    exposure: inMarket / n,
    averageExposure: exposureSum / n,
    trades: trades.length,
    closedTrades: closed,
    wins,
    losses,
    winRate: closed > 0 ? wins / closed : Number.NaN,
    profitFactor,
    grossProfit: grossProfit.toString(),
    grossLoss: grossLoss.toString(),
    netTradePnl: net.toString(),
    totalFees: totalFees.toString(),
    avgTradePnl: closed > 0 ? net.toNumber() / closed : Number.NaN,
    bestTrade: best?.toString(),
    worstTrade: worst?.toString(),
    avgHoldingNs: closed > 0 ? holdingSum / BigInt(closed) : undefined,
  };
}

/** JSON form of a stats field: finite numbers as-is, NaN and Infinity as null, ns and exact amounts as strings. */
export type JsonStats = {
  [K in keyof PerformanceStats]: PerformanceStats[K] extends number
    ? number | null
    : PerformanceStats[K] extends string
      ? PerformanceStats[K]
      : PerformanceStats[K] extends bigint
        ? string
        : string | null;
};

/** Stats as a JSON-safe object (valid JSON: null for NaN/Infinity, bigint ns as decimal strings, undefined as null). */
export function statsToJson(stats: PerformanceStats): JsonStats {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
    else if (typeof v === 'bigint') out[k] = v.toString();
    else if (v === undefined) out[k] = null;
    else out[k] = v;
  }
  return out as JsonStats;
}
