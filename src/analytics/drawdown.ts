import { toEquityColumns, validateEquity } from './equity.js';
import type { EquityInput } from './types.js';

/** The worst drawdown of a curve and the longest time spent below a previous peak. */
export interface DrawdownSummary {
  /** Largest 1 - equity / running peak, a positive fraction (0 for a curve that never falls). */
  maxDrawdown: number;
  /** Longest peak-to-recovery time in ns; an unrecovered drawdown counts until the last point. */
  maxDurationNs: bigint;
}

/**
 * Drawdown at every point: 1 - equity / running peak (0 at a new high, positive below it); O(n).
 * @throws AnalyticsError InvalidEquity on a malformed curve
 */
export function drawdownSeries(input: EquityInput): Float64Array {
  const cols = toEquityColumns(input);
  validateEquity(cols);
  const eq = cols.equity;
  const out = new Float64Array(eq.length);
  let peak = eq[0] as number;
  for (let i = 0; i < eq.length; i++) {
    const e = eq[i] as number;
    if (e > peak) peak = e;
    out[i] = peak > 0 ? 1 - e / peak : 0;
  }
  return out;
}

/**
 * Max drawdown and max drawdown duration of a curve; O(n).
 * @throws AnalyticsError InvalidEquity on a malformed curve
 */
export function drawdownSummary(input: EquityInput): DrawdownSummary {
  const cols = toEquityColumns(input);
  validateEquity(cols);
  return summarize(cols.timeNs, cols.equity);
}

/** Max drawdown and duration over validated columns. */
export function summarize(times: BigInt64Array, eq: Float64Array): DrawdownSummary {
  let peak = eq[0] as number;
  let peakTime = times[0] as bigint;
  let underwater = false;
  let maxDd = 0;
  let maxDur = 0n;
  for (let i = 0; i < eq.length; i++) {
    const e = eq[i] as number;
    const t = times[i] as bigint;
    if (e >= peak) {
      // reaching the old peak again ends the drawdown period: its length counts up to this point
      if (underwater && t - peakTime > maxDur) maxDur = t - peakTime;
      peak = e;
      peakTime = t;
      underwater = false;
    } else {
      underwater = true;
      const dd = 1 - e / peak;
      if (dd > maxDd) maxDd = dd;
      if (t - peakTime > maxDur) maxDur = t - peakTime;
    }
  }
  return { maxDrawdown: maxDd, maxDurationNs: maxDur };
}
