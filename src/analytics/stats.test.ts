import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnalyticsError, computeStats, drawdownSeries, drawdownSummary, periodReturns, statsToJson, toEquityColumns } from './index.js';
import type { EquityPoint, TradeRecord } from './index.js';

const DAY = 86_400_000_000_000n;
const HOUR = 3_600_000_000_000n;
// 2024-01-01T00:00:00Z
const T0 = 1_704_067_200_000_000_000n;

function curve(values: number[], stepNs: bigint, start = T0 + 20n * HOUR, exposure: number[] = []): EquityPoint[] {
  return values.map((equity, i) => ({ timeNs: start + BigInt(i) * stepNs, equity, exposure: exposure[i] ?? 0 }));
}

function trade(id: number, pnl: string | undefined, fees: string, entryDay = 0n, exitDay: bigint | undefined = 1n): TradeRecord {
  return {
    id,
    symbol: 'SPY',
    side: 'Long',
    quantity: '10',
    entryTimeNs: T0 + entryDay * DAY,
    entryPrice: '100.00',
    exitTimeNs: pnl === undefined ? undefined : T0 + (exitDay ?? 0n) * DAY,
    exitPrice: pnl === undefined ? undefined : '101.00',
    pnl,
    fees,
    exitReason: pnl === undefined ? undefined : 'signal',
  };
}

describe('computeStats on a hand-computed daily curve', () => {
  // one point per day at 20:00 UTC: 100, 110, 99, 121
  // daily returns: 110/100-1 = 0.1, 99/110-1 = -0.1, 121/99-1 = 2/9
  // mean = (0.1 - 0.1 + 2/9) / 3 = 2/27
  // deviations from the mean, times 27: 0.7, -4.7, 4  -> sum of squares = 38.58 / 27^2
  // sample variance (ddof=1) = 38.58 / 729 / 2
  // downside: only -0.1 is negative -> rms over all 3 periods = sqrt(0.01 / 3)
  const stats = computeStats(curve([100, 110, 99, 121], DAY, T0 + 20n * HOUR, [0, 1, 1, 0]), [], {});
  const std = Math.sqrt(38.58 / 729 / 2);

  it('total return, CAGR over 365.25-day years', () => {
    expect(stats.startEquity).toBe(100);
    expect(stats.finalEquity).toBe(121);
    expect(stats.totalReturn).toBeCloseTo(0.21, 12);
    // 3 calendar days = 3 / 365.25 years
    expect(stats.cagr).toBeCloseTo(1.21 ** (365.25 / 3) - 1, 0);
    expect(stats.cagr / (1.21 ** (365.25 / 3) - 1)).toBeCloseTo(1, 12);
  });

  it('sharpe, sortino and volatility from daily returns, annualized by sqrt(252)', () => {
    expect(stats.returnsBasis).toBe('daily');
    expect(stats.returnPeriods).toBe(3);
    expect(stats.periodsPerYear).toBe(252);
    expect(stats.sharpe).toBeCloseTo((2 / 27 / std) * Math.sqrt(252), 10);
    expect(stats.sharpe).toBeCloseTo(7.2287, 3);
    expect(stats.sortino).toBeCloseTo((2 / 27 / Math.sqrt(0.01 / 3)) * Math.sqrt(252), 10);
    expect(stats.volatility).toBeCloseTo(std * Math.sqrt(252), 12);
  });

  it('max drawdown 110 -> 99 is 10 % and lasts from day 1 to the recovery on day 3', () => {
    expect(stats.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(stats.maxDrawdownDurationNs).toBe(2n * DAY);
    expect(stats.calmar / (stats.cagr / 0.1)).toBeCloseTo(1, 12);
  });

  it('exposure is the fraction of points in the market; average exposure their mean', () => {
    expect(stats.exposure).toBe(0.5);
    expect(stats.averageExposure).toBe(0.5);
  });

  it('a risk-free rate lowers Sharpe by rf/252 per period', () => {
    const withRf = computeStats(curve([100, 110, 99, 121], DAY), [], { riskFreeRate: 0.0252 });
    // rf per period = 0.0252 / 252 = 0.0001
    expect(withRf.sharpe).toBeCloseTo(((2 / 27 - 0.0001) / std) * Math.sqrt(252), 10);
  });

  it('periodsPerYear overrides the annualization (365 for crypto)', () => {
    const crypto = computeStats(curve([100, 110, 99, 121], DAY), [], { periodsPerYear: 365 });
    expect(crypto.sharpe).toBeCloseTo((2 / 27 / std) * Math.sqrt(365), 10);
  });
});

describe('periodReturns', () => {
  it('samples intraday data at the first point and at the last point of each UTC day', () => {
    // day A: 14:00 100, 15:00 102, 16:00 101; day B: 14:00 103, 16:00 99
    // samples: 100 (first point), 101 (end of A), 99 (end of B) -> returns 0.01, 99/101 - 1
    const pts: EquityPoint[] = [
      { timeNs: T0 + 14n * HOUR, equity: 100, exposure: 0 },
      { timeNs: T0 + 15n * HOUR, equity: 102, exposure: 0 },
      { timeNs: T0 + 16n * HOUR, equity: 101, exposure: 0 },
      { timeNs: T0 + DAY + 14n * HOUR, equity: 103, exposure: 0 },
      { timeNs: T0 + DAY + 16n * HOUR, equity: 99, exposure: 0 },
    ];
    const r = periodReturns(toEquityColumns(pts));
    expect(r.basis).toBe('daily');
    expect([...r.returns]).toEqual([101 / 100 - 1, 99 / 101 - 1]);
  });

  it('uses bar-to-bar returns for weekly data, annualized by 365.25 / 7 periods', () => {
    // weekly: 100, 105, 100.8 -> returns 0.05, -0.04; ppy = 365.25 / 7
    const r = periodReturns(toEquityColumns(curve([100, 105, 100.8], 7n * DAY)));
    expect(r.basis).toBe('bar');
    expect(r.periodsPerYear).toBeCloseTo(365.25 / 7, 12);
    expect(r.returns[0]).toBeCloseTo(0.05, 12);
    expect(r.returns[1]).toBeCloseTo(-0.04, 12);
    const s = computeStats(curve([100, 105, 100.8], 7n * DAY), []);
    // mean 0.005, sample std = sqrt((0.045^2 + 0.045^2) / 1) = 0.045 * sqrt(2)
    expect(s.sharpe).toBeCloseTo((0.005 / (0.045 * Math.SQRT2)) * Math.sqrt(365.25 / 7), 10);
  });

  it('a single point has no returns and undefined ratios', () => {
    const s = computeStats(curve([100], DAY), []);
    expect(s.returnPeriods).toBe(0);
    expect(Number.isNaN(s.sharpe)).toBe(true);
    expect(Number.isNaN(s.sortino)).toBe(true);
    expect(Number.isNaN(s.cagr)).toBe(true);
    expect(s.maxDrawdown).toBe(0);
  });

  it('constant returns count as zero variance despite rounding residue', () => {
    // 700 * 1.001^k as floats: every daily return is 0.1 %, but the float returns differ by ~1e-16,
    // which without the noise floor would give a Sharpe of about 1.6e14
    const s = computeStats(curve([700, 700.6999999999999, 701.4006999999998, 702.1021006999998, 702.8042028006997, 703.5070070035003], DAY), []);
    expect(Number.isNaN(s.sharpe)).toBe(true);
    expect(s.sortino).toBe(Number.POSITIVE_INFINITY);
  });

  it('a flat curve has zero volatility and an undefined Sharpe', () => {
    const s = computeStats(curve([100, 100, 100], DAY), []);
    expect(s.volatility).toBe(0);
    expect(Number.isNaN(s.sharpe)).toBe(true);
    expect(Number.isNaN(s.sortino)).toBe(true);
  });

  it('a curve that only rises has an infinite Sortino, null in JSON', () => {
    const s = computeStats(curve([100, 101, 103], DAY), []);
    expect(s.sortino).toBe(Number.POSITIVE_INFINITY);
    expect(statsToJson(s).sortino).toBeNull();
  });
});

describe('trade statistics are exact over the trade strings', () => {
  // closed pnl: 10.50, -4.25, 0, 3.1; one open trade
  // gross profit = 10.50 + 3.1 = 13.60; gross loss = 4.25; net = 9.35; pf = 13.6 / 4.25 = 3.2
  // win rate = 2 wins / 4 closed = 0.5; avg = 9.35 / 4 = 2.3375; fees = 0.1+0.2+0+0.05+0.3 = 0.65
  const trades = [trade(1, '10.50', '0.1', 0n, 2n), trade(2, '-4.25', '0.2', 2n, 3n), trade(3, '0', '0', 3n, 3n), trade(4, '3.1', '0.05', 4n, 8n), trade(5, undefined, '0.3', 8n)];
  const s = computeStats(curve([100, 101], DAY), trades);

  it('counts, win rate, profit factor', () => {
    expect(s.trades).toBe(5);
    expect(s.closedTrades).toBe(4);
    expect(s.wins).toBe(2);
    expect(s.losses).toBe(1);
    expect(s.winRate).toBe(0.5);
    expect(s.profitFactor).toBeCloseTo(3.2, 12);
  });

  it('exact aggregates', () => {
    expect(s.grossProfit).toBe('13.60');
    expect(s.grossLoss).toBe('4.25');
    expect(s.netTradePnl).toBe('9.35');
    expect(s.totalFees).toBe('0.65');
    expect(s.bestTrade).toBe('10.50');
    expect(s.worstTrade).toBe('-4.25');
    expect(s.avgTradePnl).toBeCloseTo(2.3375, 12);
    // holding: 2 + 1 + 0 + 4 days = 7 days / 4
    expect(s.avgHoldingNs).toBe((7n * DAY) / 4n);
  });

  it('no losses: profit factor is Infinity (null in JSON); no closed trades: NaN and undefined', () => {
    const onlyWins = computeStats(curve([100, 101], DAY), [trade(1, '5', '0')]);
    expect(onlyWins.profitFactor).toBe(Number.POSITIVE_INFINITY);
    expect(onlyWins.winRate).toBe(1);
    const none = computeStats(curve([100, 101], DAY), [trade(1, undefined, '1.5')]);
    expect(none.trades).toBe(1);
    expect(none.closedTrades).toBe(0);
    expect(Number.isNaN(none.profitFactor)).toBe(true);
    expect(Number.isNaN(none.winRate)).toBe(true);
    expect(none.bestTrade).toBeUndefined();
    expect(none.totalFees).toBe('1.5');
    const json = statsToJson(none);
    expect(json.profitFactor).toBeNull();
    expect(json.bestTrade).toBeNull();
    expect(json.maxDrawdownDurationNs).toBe('0');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('errors name what and where', () => {
  it('rejects malformed curves', () => {
    expect(() => computeStats([], [])).toThrow(/\[InvalidEquity\] equity curve is empty/);
    const back = curve([100, 101, 102], DAY);
    (back[2] as EquityPoint).timeNs = T0;
    expect(() => computeStats(back, [])).toThrow(/equity point 2: time .* is before/);
    expect(() => computeStats(curve([100, Number.NaN], DAY), [])).toThrow(/equity point 1: equity NaN is not finite/);
    expect(() => computeStats(curve([0, 1], DAY), [])).toThrow(/starting equity must be > 0/);
    expect(() =>
      computeStats({ timeNs: new BigInt64Array(2), equity: new Float64Array(1), exposure: new Float64Array(2) }, []),
    ).toThrow(AnalyticsError);
  });

  it('rejects bad trades and options', () => {
    expect(() => computeStats(curve([100, 101], DAY), [trade(7, '1.2.3', '0')])).toThrow(/\[InvalidTrade\] trade 7 \(SPY\): pnl "1.2.3" is not a decimal/);
    expect(() => computeStats(curve([100, 101], DAY), [trade(8, '1', 'x')])).toThrow(/trade 8 \(SPY\): fees "x"/);
    expect(() => computeStats(curve([100, 101], DAY), [trade(9, '1', '0', 3n, 1n)])).toThrow(/trade 9 .*before entryTimeNs/);
    expect(() => computeStats(curve([100, 101], DAY), [], { periodsPerYear: 0 })).toThrow(/\[InvalidOption\] periodsPerYear/);
    expect(() => computeStats(curve([100, 101], DAY), [], { riskFreeRate: Number.NaN })).toThrow(/riskFreeRate/);
  });
});

describe('drawdownSeries', () => {
  it('is 1 - equity / running peak', () => {
    // 100, 120, 90, 120, 130, 65: peaks 100,120,120,120,130,130 -> 0, 0, 0.25, 0, 0, 0.5
    const dd = drawdownSeries(curve([100, 120, 90, 120, 130, 65], HOUR));
    expect([...dd]).toEqual([0, 0, 0.25, 0, 0, 0.5]);
    // the unrecovered drawdown from the 130 peak (point 4) lasts until the end: 1 hour
    // the 120 -> 90 -> 120 drawdown lasted 2 hours
    expect(drawdownSummary(curve([100, 120, 90, 120, 130, 65], HOUR))).toEqual({ maxDrawdown: 0.5, maxDurationNs: 2n * HOUR });
    expect(drawdownSummary(curve([100, 120, 90, 120, 130, 129, 128, 127], HOUR)).maxDurationNs).toBe(3n * HOUR);
  });
});

// curves from per-step returns of whole basis points in -10 % .. +10 %: CAGR stays finite and no
// return sits at rounding-noise level (where any ratio is ill-conditioned)
const equityValues = fc
  .array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 })
  .map((bps) => {
    let e = 1000;
    return [e, ...bps.map((b) => (e *= 1 + b / 10_000))];
  });

describe('properties', () => {
  it('a non-decreasing curve has no drawdown', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 200 }), (steps) => {
        let e = 100;
        const values = steps.map((s) => (e += s));
        const s = computeStats(curve(values, HOUR), []);
        expect(s.maxDrawdown).toBe(0);
        expect(s.maxDrawdownDurationNs).toBe(0n);
        expect(Math.max(...drawdownSeries(curve(values, HOUR)))).toBe(0);
      }),
    );
  });

  it('scaling equity by a positive constant leaves returns-based stats unchanged', () => {
    fc.assert(
      fc.property(equityValues, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (values, c) => {
        const a = computeStats(curve(values, DAY), []);
        const b = computeStats(curve(values.map((v) => v * c), DAY), []);
        for (const k of ['totalReturn', 'cagr', 'sharpe', 'sortino', 'volatility', 'maxDrawdown'] as const) {
          const x = a[k];
          const y = b[k];
          if (!Number.isFinite(x)) expect(y).toBe(x);
          else expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(x)));
        }
      }),
    );
  });

  it('columns and points give identical stats; drawdownSeries peaks at maxDrawdown', () => {
    fc.assert(
      fc.property(equityValues, (values) => {
        const pts = curve(values, 37n * 60_000_000_000n);
        const fromPoints = computeStats(pts, []);
        expect(computeStats(toEquityColumns(pts), [])).toEqual(fromPoints);
        const dd = drawdownSeries(pts);
        expect(Math.max(...dd)).toBe(fromPoints.maxDrawdown);
        for (const d of dd) expect(d).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
