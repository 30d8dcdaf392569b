/** One point of an equity curve. */
export interface EquityPoint {
  /** Time of the point, UNIX epoch ns. */
  timeNs: bigint;
  /** Cash plus marked positions, quote currency. */
  equity: number;
  /** Gross position value divided by equity; 0 when flat. */
  exposure: number;
}

/** An equity curve in columnar form (same meaning as `EquityPoint`), for curves of millions of points. */
export interface EquityColumns {
  /** Epoch ns, non-decreasing. */
  timeNs: BigInt64Array;
  /** Quote currency. */
  equity: Float64Array;
  /** Gross position value / equity. */
  exposure: Float64Array;
}

/** An equity curve as a list of points or as columns. */
export type EquityInput = readonly EquityPoint[] | EquityColumns;

/** One round trip (or a still-open position) as the engine records it; decimals are exact strings. */
export interface TradeRecord {
  id: number;
  symbol: string;
  side: 'Long' | 'Short';
  /** Exact decimal quantity. */
  quantity: string;
  /** Entry fill time, epoch ns. */
  entryTimeNs: bigint;
  /** Exact decimal average entry price. */
  entryPrice: string;
  /** Exit fill time, epoch ns; undefined while open. */
  exitTimeNs: bigint | undefined;
  /** Exact decimal average exit price; undefined while open. */
  exitPrice: string | undefined;
  /** Realized PnL after fees, quote currency, exact; undefined while open. */
  pnl: string | undefined;
  /** Fees paid so far, quote currency, exact. */
  fees: string;
  /** Why the position was closed (signal, stop loss, take profit, EOD, ...); undefined while open. */
  exitReason: string | undefined;
}

/** Options of `computeStats`. */
export interface StatsOptions {
  /** Annualization factor for Sharpe, Sortino and volatility; default 252 on the daily basis, inferred from spacing on the bar basis. */
  periodsPerYear?: number;
  /** Annual risk-free rate as a fraction (0.02 = 2 %); default 0. */
  riskFreeRate?: number;
}

/**
 * Performance statistics of one run. Float fields are NaN where the statistic is undefined (too little
 * data, no closed trades, zero variance); `profitFactor` and `sortino` may be Infinity. Exact money
 * aggregates are decimal strings. Use `statsToJson` for JSON (null for non-finite numbers).
 */
export interface PerformanceStats {
  /** First equity point's time, epoch ns. */
  startTimeNs: bigint;
  /** Last equity point's time, epoch ns. */
  endTimeNs: bigint;
  /** Number of equity points. */
  points: number;
  /** First equity value, quote currency. */
  startEquity: number;
  /** Last equity value, quote currency. */
  finalEquity: number;
  /** finalEquity / startEquity - 1. */
  totalReturn: number;
  /** Compound annual growth rate over calendar time (365.25-day years). */
  cagr: number;
  /** Annualized volatility of the period returns (sample stddev * sqrt(periodsPerYear)). */
  volatility: number;
  /** Annualized Sharpe ratio of the period returns (sample stddev, ddof = 1). */
  sharpe: number;
  /** Annualized Sortino ratio (downside deviation: root mean square of negative excess returns over all periods). */
  sortino: number;
  /** CAGR divided by max drawdown. */
  calmar: number;
  /** Largest peak-to-trough loss as a positive fraction of the peak. */
  maxDrawdown: number;
  /** Longest time from a peak until equity first gets back to it (or to the end if it never does), ns. */
  maxDrawdownDurationNs: bigint;
  /** 'daily': returns between UTC day-end samples; 'bar': returns between consecutive points (coarser data). */
  returnsBasis: 'daily' | 'bar';
  /** Number of period returns the ratio statistics use. */
  returnPeriods: number;
  /** Annualization factor used. */
  periodsPerYear: number;
  /** Fraction of equity points with non-zero exposure (time in market). */
  exposure: number;
  /** Mean of the points' exposure (average gross leverage). */
  averageExposure: number;
  /** Number of entries (trade records, open or closed). */
  trades: number;
  /** Number of trades with a realized PnL. */
  closedTrades: number;
  /** Closed trades with PnL > 0. */
  wins: number;
  /** Closed trades with PnL < 0. */
  losses: number;
  /** wins / closedTrades; NaN when no trade closed. */
  winRate: number;
  /** Gross profit / gross loss of closed trades; Infinity with profits and no losses, NaN with neither. */
  profitFactor: number;
  /** Sum of positive closed-trade PnL, quote currency, exact. */
  grossProfit: string;
  /** Sum of negative closed-trade PnL as a positive amount, quote currency, exact. */
  grossLoss: string;
  /** Sum of closed-trade PnL, quote currency, exact. */
  netTradePnl: string;
  /** Fees of all trades, quote currency, exact. */
  totalFees: string;
  /** netTradePnl / closedTrades, quote currency; NaN when no trade closed. */
  avgTradePnl: number;
  /** Largest closed-trade PnL, exact; undefined when no trade closed. */
  bestTrade: string | undefined;
  /** Smallest closed-trade PnL, exact; undefined when no trade closed. */
  worstTrade: string | undefined;
  /** Mean holding time of closed trades, ns (truncated); undefined when no trade closed. */
  avgHoldingNs: bigint | undefined;
}
