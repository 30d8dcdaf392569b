import { Atr, Bollinger, CrossDetector, Ema, Macd, RollingRange, Rsi, Slope, Sma, Vwap } from '../indicators/index.js';
import type { CrossHandle, IndicatorHandle, IndicatorRegistry } from '../strategy/types.js';
import type { BarView } from '../strategy/types.js';

class CrossView implements CrossHandle {
  current: -1 | 0 | 1 = 0;
  previous: -1 | 0 | 1 = 0;
  isReady = false;
  crossedUp = false;
  crossedDown = false;
  readonly detector: CrossDetector;
  constructor(detector: CrossDetector) {
    this.detector = detector;
  }
  update(close: number): void {
    const dir = this.detector.update(close);
    this.previous = this.current;
    const rel = this.detector.relation;
    this.isReady = rel !== null;
    this.current = rel ?? 0;
    this.crossedUp = dir === 1;
    this.crossedDown = dir === -1;
  }
}

const view = (get: () => number, ready: () => boolean): IndicatorHandle => ({
  get value() {
    return get();
  },
  get isReady() {
    return ready();
  },
});

/**
 * The engine's per-symbol indicator state (pipeline step 2): strategies ask for handles at
 * construction, the engine updates every registered indicator once per bar, in registration order,
 * before any strategy runs. Shared: the same request gives the same indicator.
 */
export class SymbolIndicators implements IndicatorRegistry {
  readonly #precision: number;
  readonly #byKey = new Map<string, unknown>();
  readonly #closeUpdaters: { update(x: number): number }[] = [];
  readonly #atrs: Atr[] = [];
  readonly #ranges: RollingRange[] = [];
  readonly #crosses: CrossView[] = [];
  #vwap: Vwap | undefined;
  readonly #snapshotters: [string, { snapshot(): unknown; restore(s: never): void }][] = [];

  /** `exactPrecision`: decimals of the integer-scaled prices the exact crossovers use. */
  constructor(exactPrecision: number) {
    this.#precision = exactPrecision;
  }

  #get<T>(key: string, make: () => T): T {
    const have = this.#byKey.get(key);
    if (have !== undefined) return have as T;
    const made = make();
    this.#byKey.set(key, made);
    return made;
  }

  #track<T extends { snapshot(): unknown; restore(s: never): void }>(key: string, ind: T): T {
    this.#snapshotters.push([key, ind]);
    return ind;
  }

  sma(period: number): IndicatorHandle {
    return this.#get(`sma:${period}`, () => {
      const ind = this.#track(`sma:${period}`, new Sma(period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  ema(period: number): IndicatorHandle {
    return this.#get(`ema:${period}`, () => {
      const ind = this.#track(`ema:${period}`, new Ema(period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  rsi(period: number): IndicatorHandle {
    return this.#get(`rsi:${period}`, () => {
      const ind = this.#track(`rsi:${period}`, new Rsi(period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  slope(period: number): IndicatorHandle {
    return this.#get(`slope:${period}`, () => {
      const ind = this.#track(`slope:${period}`, new Slope(period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  atr(period: number): IndicatorHandle {
    return this.#get(`atr:${period}`, () => {
      const ind = this.#track(`atr:${period}`, new Atr(period));
      this.#atrs.push(ind);
      return ind;
    });
  }
  range(period: number): IndicatorHandle {
    return this.#get(`range:${period}`, () => {
      const ind = this.#track(`range:${period}`, new RollingRange(period));
      this.#ranges.push(ind);
      return ind;
    });
  }
  vwap(): IndicatorHandle {
    return this.#get('vwap', () => {
      this.#vwap = this.#track('vwap', new Vwap());
      return this.#vwap;
    });
  }
  bollinger(period: number, k: number): { upper: IndicatorHandle; middle: IndicatorHandle; lower: IndicatorHandle } {
    return this.#get(`bollinger:${period}:${k}`, () => {
      const b = this.#track(`bollinger:${period}:${k}`, new Bollinger(period, k));
      this.#closeUpdaters.push(b);
      return {
        upper: view(() => b.upper, () => b.isReady),
        middle: view(() => b.middle, () => b.isReady),
        lower: view(() => b.lower, () => b.isReady),
      };
    });
  }
  macd(fast: number, slow: number, signal: number): { macd: IndicatorHandle; signal: IndicatorHandle; histogram: IndicatorHandle } {
    return this.#get(`macd:${fast}:${slow}:${signal}`, () => {
      const m = this.#track(`macd:${fast}:${slow}:${signal}`, new Macd(fast, slow, signal));
      this.#closeUpdaters.push(m);
      return {
        macd: view(() => m.macd, () => m.isReady),
        signal: view(() => m.signal, () => m.isReady),
        histogram: view(() => m.histogram, () => m.isReady),
      };
    });
  }
  cross(fast: number, slow: number): CrossHandle {
    return this.#get(`cross:${fast}:${slow}`, () => {
      const c = new CrossView(new CrossDetector(fast, slow, this.#precision));
      this.#track(`cross:${fast}:${slow}`, c.detector);
      this.#crosses.push(c);
      return c;
    });
  }

  /** Updates every registered indicator with the bar; `newSession` re-anchors the VWAP first. */
  update(bar: BarView, newSession: boolean): void {
    const close = bar.close;
    const ups = this.#closeUpdaters;
    for (let i = 0; i < ups.length; i++) (ups[i] as { update(x: number): number }).update(close);
    for (let i = 0; i < this.#atrs.length; i++) (this.#atrs[i] as Atr).update(bar.high, bar.low, close);
    for (let i = 0; i < this.#ranges.length; i++) (this.#ranges[i] as RollingRange).update(bar.high, bar.low);
    for (let i = 0; i < this.#crosses.length; i++) (this.#crosses[i] as CrossView).update(close);
    const vwap = this.#vwap;
    if (vwap !== undefined) {
      if (newSession) vwap.reset();
      vwap.update(bar.high, bar.low, close, bar.volume);
    }
  }

  /** JSON-serializable state of every indicator, by key (for checkpoints). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, ind] of this.#snapshotters) out[k] = ind.snapshot();
    return out;
  }

  /** Restores a snapshot taken from a registry with the same registrations. */
  restore(state: Record<string, unknown>): void {
    for (const [k, ind] of this.#snapshotters) {
      const s = state[k];
      if (s !== undefined) ind.restore(s as never);
    }
    for (const c of this.#crosses) {
      const rel = c.detector.relation;
      c.isReady = rel !== null;
      c.current = rel ?? 0;
      c.previous = c.current;
      c.crossedUp = false;
      c.crossedDown = false;
    }
  }
}
