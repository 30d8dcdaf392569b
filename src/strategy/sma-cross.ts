import type { StrategyFactory } from './types.js';

/**
 * SMA crossover: enter long when SMA(fast) crosses above SMA(slow), exit when it crosses below.
 * The comparison is exact (integer window sums), so equal averages are a tie, never rounding noise.
 */
export const smaCross: StrategyFactory = {
  name: 'sma-cross',
  description: 'long when SMA(fast) crosses above SMA(slow); exit on the cross down',
  params: {
    fast: { type: 'number', integer: true, min: 1, default: 10 },
    slow: { type: 'number', integer: true, min: 2, default: 30 },
  },
  create(params, ctx) {
    const fast = params.fast as number;
    const slow = params.slow as number;
    const cross = ctx.indicators.cross(fast, slow);
    const up = Object.freeze({ action: 'enter-long', reason: `SMA(${fast}) crossed above SMA(${slow})` } as const);
    const down = Object.freeze({ action: 'exit', reason: `SMA(${fast}) crossed below SMA(${slow})` } as const);
    return {
      onBar() {
        if (cross.crossedUp) return up;
        if (cross.crossedDown) return down;
        return undefined;
      },
    };
  },
};
