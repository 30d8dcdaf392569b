import { Atr, type AtrState } from './atr.js';
import { Bollinger, type BollingerState } from './bollinger.js';
import { Ema, type EmaState } from './ema.js';
import { IndicatorError } from './errors.js';
import { Macd, type MacdState } from './macd.js';
import { RollingRange, type RangeState } from './range.js';
import { Rsi, type RsiState } from './rsi.js';
import { Slope, type SlopeState } from './slope.js';
import { Sma, type SmaState } from './sma.js';
import { Vwap, type VwapState } from './vwap.js';

/** Bollinger parameters: `period` (default 20) and `stdDevs` (default 2). */
export interface BollingerParams {
  period?: number;
  stdDevs?: number;
}

/** MACD parameters: `fast` (12), `slow` (26), `signal` (9). */
export interface MacdParams {
  fast?: number;
  slow?: number;
  signal?: number;
}

/** One period or several. */
export type Periods = number | readonly number[];

/**
 * Which indicators a symbol keeps, by name and parameters, e.g.
 * `{ sma: [10, 30], ema: 20, rsi: 14, atr: 14, bollinger: {}, macd: {}, vwap: {}, slope: 20, range: 20 }`.
 */
export interface IndicatorSetConfig {
  sma?: Periods;
  ema?: Periods;
  rsi?: Periods;
  atr?: Periods;
  slope?: Periods;
  range?: Periods;
  bollinger?: BollingerParams | readonly BollingerParams[];
  macd?: MacdParams | readonly MacdParams[];
  vwap?: Record<string, never> | boolean;
}

/** The bar fields an indicator set reads. */
export interface BarValues {
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** Snapshot of an {@link IndicatorSet}: the set's bar count and each indicator's state by key. */
export interface IndicatorSetState {
  kind: 'indicator-set';
  count: number;
  items: Record<string, unknown>;
}

type Snap = SmaState | EmaState | RsiState | AtrState | SlopeState | RangeState | BollingerState | MacdState | VwapState;
interface Keyed {
  readonly key: string;
  readonly ind: { readonly isReady: boolean; readonly value: number; reset(): void; snapshot(): Snap; restore(s: never): void };
}

const KNOWN = ['sma', 'ema', 'rsi', 'atr', 'slope', 'range', 'bollinger', 'macd', 'vwap'] as const;

function periodsOf(name: string, v: unknown, problems: string[]): number[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  const out: number[] = [];
  for (const p of list) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1) problems.push(`${name}: period must be a positive integer, got ${JSON.stringify(p)}`);
    else if (!out.includes(p)) out.push(p);
  }
  return out;
}

function objectsOf(name: string, v: unknown, keys: readonly string[], problems: string[]): Record<string, unknown>[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  const out: Record<string, unknown>[] = [];
  for (const o of list) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      problems.push(`${name}: expected an object of {${keys.join(', ')}}, got ${JSON.stringify(o)}`);
      continue;
    }
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${name}: unknown key ${JSON.stringify(k)} (known: ${keys.join(', ')})`);
    out.push(o as Record<string, unknown>);
  }
  return out;
}

/**
 * The indicators of one symbol, built from an {@link IndicatorSetConfig}; `update(bar)` advances all of
 * them with no allocation. Call `startSession()` at each session open (re-anchors VWAP).
 */
export class IndicatorSet {
  readonly #sma = new Map<number, Sma>();
  readonly #ema = new Map<number, Ema>();
  readonly #rsi = new Map<number, Rsi>();
  readonly #atr = new Map<number, Atr>();
  readonly #slope = new Map<number, Slope>();
  readonly #range = new Map<number, RollingRange>();
  readonly #bollinger = new Map<string, Bollinger>();
  readonly #macd = new Map<string, Macd>();
  readonly #vwap: Vwap | undefined;
  // one array per class keeps each update call site monomorphic
  readonly #smas: Sma[] = [];
  readonly #emas: Ema[] = [];
  readonly #rsis: Rsi[] = [];
  readonly #slopes: Slope[] = [];
  readonly #bbs: Bollinger[] = [];
  readonly #macds: Macd[] = [];
  readonly #atrs: Atr[] = [];
  readonly #ranges: RollingRange[] = [];
  readonly #all: Keyed[] = [];
  #count = 0;
  /** Bars needed before every configured indicator is ready (the largest lookback + 1). */
  readonly warmupBars: number;

  /** @throws IndicatorError InvalidParameter listing every problem of the config at once */
  constructor(config: IndicatorSetConfig) {
    const problems: string[] = [];
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new IndicatorError('InvalidParameter', 'indicator set: config must be an object');
    }
    for (const k of Object.keys(config)) {
      if (!(KNOWN as readonly string[]).includes(k)) problems.push(`unknown indicator ${JSON.stringify(k)} (known: ${KNOWN.join(', ')})`);
    }
    const c = config as Record<string, unknown>;
    const build = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof IndicatorError) problems.push(e.detail);
        else throw e;
        return undefined;
      }
    };
    const add = (key: string, ind: Keyed['ind'] | undefined): void => {
      if (ind !== undefined) this.#all.push({ key, ind });
    };
    for (const p of periodsOf('sma', c['sma'], problems)) {
      const x = build(() => new Sma(p));
      if (x) {
        this.#sma.set(p, x);
        this.#smas.push(x);
        add(`sma(${p})`, x);
      }
    }
    for (const p of periodsOf('ema', c['ema'], problems)) {
      const x = build(() => new Ema(p));
      if (x) {
        this.#ema.set(p, x);
        this.#emas.push(x);
        add(`ema(${p})`, x);
      }
    }
    for (const p of periodsOf('rsi', c['rsi'], problems)) {
      const x = build(() => new Rsi(p));
      if (x) {
        this.#rsi.set(p, x);
        this.#rsis.push(x);
        add(`rsi(${p})`, x);
      }
    }
    for (const p of periodsOf('slope', c['slope'], problems)) {
      const x = build(() => new Slope(p));
      if (x) {
        this.#slope.set(p, x);
        this.#slopes.push(x);
        add(`slope(${p})`, x);
      }
    }
    for (const p of periodsOf('atr', c['atr'], problems)) {
      const x = build(() => new Atr(p));
      if (x) {
        this.#atr.set(p, x);
        this.#atrs.push(x);
        add(`atr(${p})`, x);
      }
    }
    for (const p of periodsOf('range', c['range'], problems)) {
      const x = build(() => new RollingRange(p));
      if (x) {
        this.#range.set(p, x);
        this.#ranges.push(x);
        add(`range(${p})`, x);
      }
    }
    for (const o of objectsOf('bollinger', c['bollinger'], ['period', 'stdDevs'], problems)) {
      const x = build(() => new Bollinger((o['period'] as number | undefined) ?? 20, (o['stdDevs'] as number | undefined) ?? 2));
      const key = x && `${x.period},${x.stdDevs}`;
      if (x && key && !this.#bollinger.has(key)) {
        this.#bollinger.set(key, x);
        this.#bbs.push(x);
        add(`bollinger(${key})`, x);
      }
    }
    for (const o of objectsOf('macd', c['macd'], ['fast', 'slow', 'signal'], problems)) {
      const x = build(() => new Macd((o['fast'] as number | undefined) ?? 12, (o['slow'] as number | undefined) ?? 26, (o['signal'] as number | undefined) ?? 9));
      const key = x && `${x.fastPeriod},${x.slowPeriod},${x.signalPeriod}`;
      if (x && key && !this.#macd.has(key)) {
        this.#macd.set(key, x);
        this.#macds.push(x);
        add(`macd(${key})`, x);
      }
    }
    const v = c['vwap'];
    if (v === true || (typeof v === 'object' && v !== null && !Array.isArray(v))) {
      if (typeof v === 'object' && Object.keys(v).length > 0) problems.push(`vwap: takes no parameters, got ${JSON.stringify(v)}`);
      this.#vwap = new Vwap();
      add('vwap', this.#vwap);
    } else if (v !== undefined && v !== false) problems.push(`vwap: expected {} or a boolean, got ${JSON.stringify(v)}`);
    if (problems.length > 0) throw new IndicatorError('InvalidParameter', `indicator set: ${problems.join('; ')}`);
    let warm = 1;
    for (const p of this.#sma.keys()) warm = Math.max(warm, p);
    for (const p of this.#ema.keys()) warm = Math.max(warm, p);
    for (const p of this.#slope.keys()) warm = Math.max(warm, p);
    for (const p of this.#range.keys()) warm = Math.max(warm, p);
    for (const p of this.#rsi.keys()) warm = Math.max(warm, p + 1);
    for (const p of this.#atr.keys()) warm = Math.max(warm, p + 1);
    for (const b of this.#bollinger.values()) warm = Math.max(warm, b.period);
    for (const m of this.#macd.values()) warm = Math.max(warm, m.slowPeriod + m.signalPeriod - 1);
    this.warmupBars = warm;
  }

  /** Advances every indicator by one bar. @throws IndicatorError InvalidInput (before any indicator changes) */
  update(bar: BarValues): void {
    const { high, low, close, volume } = bar;
    if (!Number.isFinite(high) || !Number.isFinite(low) || !Number.isFinite(close) || !Number.isFinite(volume) || volume < 0 || high < low) {
      throw new IndicatorError('InvalidInput', `indicator set: bad bar high=${high} low=${low} close=${close} volume=${volume}`);
    }
    const smas = this.#smas;
    for (let i = 0; i < smas.length; i++) (smas[i] as Sma).update(close);
    const emas = this.#emas;
    for (let i = 0; i < emas.length; i++) (emas[i] as Ema).update(close);
    const rsis = this.#rsis;
    for (let i = 0; i < rsis.length; i++) (rsis[i] as Rsi).update(close);
    const slopes = this.#slopes;
    for (let i = 0; i < slopes.length; i++) (slopes[i] as Slope).update(close);
    const bbs = this.#bbs;
    for (let i = 0; i < bbs.length; i++) (bbs[i] as Bollinger).update(close);
    const macds = this.#macds;
    for (let i = 0; i < macds.length; i++) (macds[i] as Macd).update(close);
    const atrs = this.#atrs;
    for (let i = 0; i < atrs.length; i++) (atrs[i] as Atr).update(high, low, close);
    const ranges = this.#ranges;
    for (let i = 0; i < ranges.length; i++) (ranges[i] as RollingRange).update(high, low);
    this.#vwap?.update(high, low, close, volume);
    this.#count++;
  }

  /** Re-anchors the session-anchored indicators (VWAP) at a session open. */
  startSession(): void {
    this.#vwap?.reset();
  }

  /** Bars seen since construction or reset. */
  get count(): number {
    return this.#count;
  }

  /** True when every configured indicator is ready (VWAP: once its session saw volume). */
  get isReady(): boolean {
    for (const { ind } of this.#all) if (!ind.isReady) return false;
    return true;
  }

  /** The configured SMA. @throws IndicatorError NotConfigured */
  sma(period: number): Sma {
    return this.#get(this.#sma, period, 'sma');
  }

  /** The configured EMA. @throws IndicatorError NotConfigured */
  ema(period: number): Ema {
    return this.#get(this.#ema, period, 'ema');
  }

  /** The configured RSI. @throws IndicatorError NotConfigured */
  rsi(period: number): Rsi {
    return this.#get(this.#rsi, period, 'rsi');
  }

  /** The configured ATR. @throws IndicatorError NotConfigured */
  atr(period: number): Atr {
    return this.#get(this.#atr, period, 'atr');
  }

  /** The configured slope. @throws IndicatorError NotConfigured */
  slope(period: number): Slope {
    return this.#get(this.#slope, period, 'slope');
  }

  /** The configured rolling range. @throws IndicatorError NotConfigured */
  range(period: number): RollingRange {
    return this.#get(this.#range, period, 'range');
  }

  /** The configured Bollinger bands. @throws IndicatorError NotConfigured */
  bollinger(period = 20, stdDevs = 2): Bollinger {
    return this.#get(this.#bollinger, `${period},${stdDevs}`, 'bollinger');
  }

  /** The configured MACD. @throws IndicatorError NotConfigured */
  macd(fast = 12, slow = 26, signal = 9): Macd {
    return this.#get(this.#macd, `${fast},${slow},${signal}`, 'macd');
  }

  /** The session VWAP. @throws IndicatorError NotConfigured */
  get vwap(): Vwap {
    if (this.#vwap === undefined) throw new IndicatorError('NotConfigured', 'indicator set: vwap is not configured');
    return this.#vwap;
  }

  /** Every indicator's current value by key (`sma(10)`, `vwap`, ...); allocates, not for the hot path. */
  values(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { key, ind } of this.#all) out[key] = ind.value;
    return out;
  }

  /** Forgets every bar. */
  reset(): void {
    for (const { ind } of this.#all) ind.reset();
    this.#count = 0;
  }

  /** A plain JSON-serializable copy of every indicator's state. */
  snapshot(): IndicatorSetState {
    const items: Record<string, unknown> = {};
    for (const { key, ind } of this.#all) items[key] = ind.snapshot();
    return { kind: 'indicator-set', count: this.#count, items };
  }

  /** Restores a snapshot of a set with the same config; nothing changes if any part is invalid. @throws IndicatorError InvalidState */
  restore(state: IndicatorSetState): void {
    if (typeof state !== 'object' || state === null || state.kind !== 'indicator-set' || !Number.isInteger(state.count) || state.count < 0) {
      throw new IndicatorError('InvalidState', 'indicator set restore: not an indicator-set snapshot');
    }
    const items = state.items as Record<string, unknown> | undefined;
    const want = this.#all.map((k) => k.key).sort();
    const got = typeof items === 'object' && items !== null ? Object.keys(items).sort() : [];
    if (want.join('|') !== got.join('|')) {
      throw new IndicatorError('InvalidState', `indicator set restore: snapshot holds [${got.join(', ')}] but this set has [${want.join(', ')}]`);
    }
    // validate all against each indicator's own current state first, then apply
    const before = this.#all.map(({ ind }) => ind.snapshot());
    try {
      for (const { key, ind } of this.#all) ind.restore((items as Record<string, never>)[key] as never);
    } catch (e) {
      this.#all.forEach(({ ind }, i) => ind.restore(before[i] as never));
      throw e;
    }
    this.#count = state.count;
  }

  #get<K, T>(map: Map<K, T>, key: K, name: string): T {
    const x = map.get(key);
    if (x === undefined) {
      throw new IndicatorError('NotConfigured', `indicator set: ${name}(${String(key)}) is not configured (configured: ${[...map.keys()].map(String).join(' | ') || 'none'})`);
    }
    return x;
  }
}
