import type { Field } from '../core/schema.js';

/**
 * The bar a strategy sees. The engine reuses one object per call (no allocation per bar), so it is
 * valid only during the call: copy what you keep.
 */
export interface BarView {
  readonly symbol: string;
  /** Epoch ns. */
  readonly openTimeNs: bigint;
  /** Epoch ns. */
  readonly closeTimeNs: bigint;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Number of bars the engine has seen for this symbol, this one included. */
  readonly index: number;
}

/**
 * A strategy's suggestion. It cannot size, cannot see capital, cannot send orders: the engine
 * decides whether, how much and how (sizing, session gates, kill switch, cooldown, risk).
 */
export interface Signal {
  /** `enter-long` / `enter-short` open a position when flat; `exit` closes one when held. */
  readonly action: 'enter-long' | 'enter-short' | 'exit';
  /** Why, for the audit trail and the trade list. */
  readonly reason: string;
  /** Suggested fair entry price (e.g. VWAP); the execution layer may use it for a limit entry. */
  readonly fairPrice?: number;
  /** Overrides of the configured take-profit / stop-loss, percent from the entry price. */
  readonly takeProfitPct?: number;
  readonly stopLossPct?: number;
}

/** A read-only streaming indicator value. */
export interface IndicatorHandle {
  readonly value: number;
  readonly isReady: boolean;
}

/** Exact comparison of two simple moving averages over integer-scaled prices. */
export interface CrossHandle {
  /** -1, 0, 1: fast below, equal to, above slow on the latest bar (NaN-free: 0 until ready). */
  readonly current: -1 | 0 | 1;
  /** The same on the previous bar. */
  readonly previous: -1 | 0 | 1;
  readonly isReady: boolean;
  /** True on the bar where fast crossed above slow: previous <= 0 and current > 0, both ready. */
  readonly crossedUp: boolean;
  /** True on the bar where fast crossed below slow: previous >= 0 and current < 0, both ready. */
  readonly crossedDown: boolean;
}

/**
 * The per-symbol indicator registry a strategy asks for handles at construction. Handles are shared:
 * asking twice for `sma(10)` gives the same indicator, updated once per bar by the engine (pipeline
 * step 2) before any strategy runs.
 */
export interface IndicatorRegistry {
  sma(period: number): IndicatorHandle;
  ema(period: number): IndicatorHandle;
  rsi(period: number): IndicatorHandle;
  atr(period: number): IndicatorHandle;
  /** Session-anchored VWAP (reset at each session open). */
  vwap(): IndicatorHandle;
  /** Rolling least-squares slope of close over `period` bars, price units per bar. */
  slope(period: number): IndicatorHandle;
  /** Rolling high - low over `period` bars. */
  range(period: number): IndicatorHandle;
  bollinger(period: number, k: number): { upper: IndicatorHandle; middle: IndicatorHandle; lower: IndicatorHandle };
  macd(fast: number, slow: number, signal: number): { macd: IndicatorHandle; signal: IndicatorHandle; histogram: IndicatorHandle };
  /** Exact SMA(fast) vs SMA(slow) comparison and crossovers. */
  cross(fast: number, slow: number): CrossHandle;
}

/** What a strategy is built with. */
export interface StrategyContext {
  readonly symbol: string;
  readonly indicators: IndicatorRegistry;
}

/** A strategy instance (one per symbol). Returns a Signal or nothing; must not throw (if it does, the engine disables it for that symbol). */
export interface Strategy {
  onBar(bar: BarView): Signal | undefined;
  /** Strategy-private state for checkpoints (JSON-serializable). */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** A named strategy with a strict parameter schema. */
export interface StrategyFactory {
  readonly name: string;
  readonly description: string;
  /** Parameters; unknown parameters are refused. */
  readonly params: Record<string, Field>;
  create(params: Readonly<Record<string, unknown>>, context: StrategyContext): Strategy;
}
