import type { EquityColumns } from './types.js';

/** One UTC day in ns. */
export const DAY_NS = 86_400_000_000_000n;
/** A calendar year of 365.25 days in ns (for CAGR and the bar-basis annualization). */
export const YEAR_NS = 31_557_600_000_000_000n;
/** Trading days per year used to annualize daily returns. */
export const TRADING_DAYS_PER_YEAR = 252;
/** Average point spacing above which returns are taken bar to bar instead of day to day (4 days, ns). */
export const DAILY_BASIS_MAX_SPACING_NS = 4n * DAY_NS;

/** Period returns of a curve and how they were sampled. */
export interface PeriodReturns {
  /** Simple returns e[k] / e[k-1] - 1 between consecutive samples. */
  returns: Float64Array;
  basis: 'daily' | 'bar';
  /** The annualization factor that matches the basis: 252 (daily) or one 365.25-day year / mean spacing (bar). */
  periodsPerYear: number;
}

function utcDay(t: bigint): bigint {
  return t >= 0n ? t / DAY_NS : -((-t + DAY_NS - 1n) / DAY_NS);
}

/**
 * Period returns of a validated curve. Intraday or daily data (mean spacing up to 4 days) is sampled at
 * the first point and at the last point of each UTC day, so every day, the first one included,
 * contributes one return; coarser data (weekly, monthly) uses consecutive points. O(n).
 */
export function periodReturns(cols: EquityColumns): PeriodReturns {
  const times = cols.timeNs;
  const eq = cols.equity;
  const n = eq.length;
  if (n < 2) return { returns: new Float64Array(0), basis: 'daily', periodsPerYear: TRADING_DAYS_PER_YEAR };
  const span = (times[n - 1] as bigint) - (times[0] as bigint);
  const spacing = span / BigInt(n - 1);
  if (spacing > DAILY_BASIS_MAX_SPACING_NS) {
    const returns = new Float64Array(n - 1);
    for (let i = 1; i < n; i++) returns[i - 1] = (eq[i] as number) / (eq[i - 1] as number) - 1;
    return { returns, basis: 'bar', periodsPerYear: Number(YEAR_NS) / Number(spacing) };
  }
  const samples: number[] = [eq[0] as number];
  // day-end samples: the last index before the day changes, and the final point
  let nextDay = (utcDay(times[0] as bigint) + 1n) * DAY_NS;
  for (let i = 1; i < n; i++) {
    const t = times[i] as bigint;
    if (t >= nextDay) {
      if (i - 1 > 0) samples.push(eq[i - 1] as number);
      nextDay = (utcDay(t) + 1n) * DAY_NS;
    }
  }
  samples.push(eq[n - 1] as number);
  const returns = new Float64Array(samples.length - 1);
  for (let k = 1; k < samples.length; k++) returns[k - 1] = (samples[k] as number) / (samples[k - 1] as number) - 1;
  return { returns, basis: 'daily', periodsPerYear: TRADING_DAYS_PER_YEAR };
}
