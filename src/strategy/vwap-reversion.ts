import type { StrategyFactory } from './types.js';

/**
 * Intraday VWAP mean reversion: buy a stretch below the session VWAP when the short-term trend is not
 * falling hard, exit when price is back at VWAP. The stretch is measured in units of the rolling
 * range so it adapts to volatility:
 * - enter long when close < vwap - band * range(rangePeriod) and slope(slopePeriod) >= -maxFall * close;
 * - exit when close >= vwap (take-profit and stop-loss are the engine's, percent from entry).
 */
export const vwapReversion: StrategyFactory = {
  name: 'vwap-reversion',
  description: 'long a stretch below session VWAP (in rolling-range units) unless trending down; exit at VWAP',
  params: {
    band: { type: 'number', min: 0, default: 0.6, doc: 'stretch below VWAP, in units of the rolling range' },
    rangePeriod: { type: 'number', integer: true, min: 2, default: 30 },
    slopePeriod: { type: 'number', integer: true, min: 2, default: 20 },
    maxFall: { type: 'number', min: 0, default: 0.0002, doc: 'largest tolerated fall per bar, fraction of price' },
    takeProfitPct: { type: 'number', min: 0, default: 0.5 },
    stopLossPct: { type: 'number', min: 0, default: 0.35 },
  },
  create(params, ctx) {
    const band = params.band as number;
    const maxFall = params.maxFall as number;
    const takeProfitPct = params.takeProfitPct as number;
    const stopLossPct = params.stopLossPct as number;
    const vwap = ctx.indicators.vwap();
    const range = ctx.indicators.range(params.rangePeriod as number);
    const slope = ctx.indicators.slope(params.slopePeriod as number);
    const exit = Object.freeze({ action: 'exit', reason: 'back at VWAP' } as const);
    return {
      onBar(bar) {
        if (!vwap.isReady || !range.isReady || !slope.isReady) return undefined;
        const v = vwap.value;
        if (bar.close >= v) return exit;
        const stretch = band * range.value;
        if (stretch > 0 && bar.close < v - stretch && slope.value >= -maxFall * bar.close) {
          return {
            action: 'enter-long',
            reason: `close ${bar.close} below VWAP ${v.toFixed(4)} by more than ${band} x range`,
            fairPrice: v - stretch,
            takeProfitPct,
            stopLossPct,
          };
        }
        return undefined;
      },
    };
  },
};
