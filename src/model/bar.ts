import { CoreError } from '../core/errors.js';

/** Bar length. */
export type Timeframe = '1s' | '1m' | '5m' | '15m' | '30m' | '1h' | '1d';

const TIMEFRAME_NS: Record<Timeframe, bigint> = {
  '1s': 1_000_000_000n,
  '1m': 60_000_000_000n,
  '5m': 300_000_000_000n,
  '15m': 900_000_000_000n,
  '30m': 1_800_000_000_000n,
  '1h': 3_600_000_000_000n,
  '1d': 86_400_000_000_000n,
};

/** Length of a timeframe in ns. */
export function timeframeNs(tf: Timeframe): bigint {
  return TIMEFRAME_NS[tf];
}

/** @throws CoreError InvalidArgument */
export function parseTimeframe(text: string): Timeframe {
  if (Object.hasOwn(TIMEFRAME_NS, text)) return text as Timeframe;
  throw new CoreError('InvalidArgument', `unknown timeframe ${JSON.stringify(text)} (one of ${Object.keys(TIMEFRAME_NS).join(', ')})`);
}

/**
 * One OHLCV bar. Prices are float64 market data whose shortest round-trip string is the source's
 * decimal (convert with `priceFromFloat` before any money path); times are epoch ns.
 */
export interface Bar {
  /** Symbol (the bar store's key), e.g. `SPY`. */
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Bar open time, epoch ns. */
  readonly openTimeNs: bigint;
  /** Bar close time, epoch ns (open + timeframe). */
  readonly closeTimeNs: bigint;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * Why a bar is invalid, or undefined when it is valid: non-finite values, prices <= 0,
 * high below open/close/low, low above open/close, negative volume.
 */
export function barProblem(open: number, high: number, low: number, close: number, volume: number): string | undefined {
  if (!Number.isFinite(open)) return 'open is not a finite number';
  if (!Number.isFinite(high)) return 'high is not a finite number';
  if (!Number.isFinite(low)) return 'low is not a finite number';
  if (!Number.isFinite(close)) return 'close is not a finite number';
  if (!Number.isFinite(volume)) return 'volume is not a finite number';
  if (open <= 0) return `open must be > 0, got ${open}`;
  if (high <= 0) return `high must be > 0, got ${high}`;
  if (low <= 0) return `low must be > 0, got ${low}`;
  if (close <= 0) return `close must be > 0, got ${close}`;
  if (high < open || high < close) return `high ${high} is below open ${open} or close ${close}`;
  if (low > open || low > close) return `low ${low} is above open ${open} or close ${close}`;
  if (high < low) return `high ${high} is below low ${low}`;
  if (volume < 0) return `volume must be >= 0, got ${volume}`;
  return undefined;
}

/** Builds a frozen bar after validation. @throws CoreError InvalidBar */
export function makeBar(b: Omit<Bar, 'closeTimeNs'> & { closeTimeNs?: bigint }): Bar {
  const problem = barProblem(b.open, b.high, b.low, b.close, b.volume);
  if (problem !== undefined) throw new CoreError('InvalidBar', `${b.symbol} bar at ${b.openTimeNs}: ${problem}`);
  return Object.freeze({ ...b, closeTimeNs: b.closeTimeNs ?? b.openTimeNs + timeframeNs(b.timeframe) });
}
