import { Atr, Bollinger, CrossDetector, Ema, IndicatorError, Macd, RollingRange, Rsi, Slope, Sma, Vwap } from '../indicators/index.js';
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

/** An indicator whose state packs into float64 slots (see Sma.pack), with the unpacker of its kind. */
interface Packed {
  readonly key: string;
  readonly ind: { packedLength(): number; pack(dst: Float64Array, at: number): number; restore(s: never): void };
  readonly unpack: (packed: Float64Array) => unknown;
}

/**
 * Snapshot of a SymbolIndicators: the packable indicators' numbers in one Float64Array (per indicator,
 * in registration order, its slot count then its slots), `layout` naming them, and the snapshots of
 * the others by key. One array per symbol instead of an object and a window array per indicator: the
 * binary checkpoint copies it in one go.
 */
export interface SymbolIndicatorsState {
  readonly layout: string;
  readonly packed: Float64Array;
  readonly objects: Record<string, unknown>;
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
  readonly #packed: Packed[] = [];
  readonly #objects: [string, { snapshot(): unknown; restore(s: never): void }][] = [];
  #layout = '';

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

  #track<T extends { snapshot(): unknown; restore(s: never): void }>(key: string, ind: T, unpack?: (packed: Float64Array) => unknown): T {
    this.#snapshotters.push([key, ind]);
    const packable = ind as Partial<Packed['ind']>;
    if (unpack !== undefined && typeof packable.pack === 'function' && typeof packable.packedLength === 'function') {
      this.#packed.push({ key, ind: ind as unknown as Packed['ind'], unpack });
      this.#layout = this.#packed.map((p) => p.key).join(',');
    } else this.#objects.push([key, ind]);
    return ind;
  }

  sma(period: number): IndicatorHandle {
    return this.#get(`sma:${period}`, () => {
      const ind = this.#track(`sma:${period}`, new Sma(period), (p) => Sma.unpack(p, period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  ema(period: number): IndicatorHandle {
    return this.#get(`ema:${period}`, () => {
      const ind = this.#track(`ema:${period}`, new Ema(period), (p) => Ema.unpack(p, period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  rsi(period: number): IndicatorHandle {
    return this.#get(`rsi:${period}`, () => {
      const ind = this.#track(`rsi:${period}`, new Rsi(period), (p) => Rsi.unpack(p, period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  slope(period: number): IndicatorHandle {
    return this.#get(`slope:${period}`, () => {
      const ind = this.#track(`slope:${period}`, new Slope(period), (p) => Slope.unpack(p, period));
      this.#closeUpdaters.push(ind);
      return ind;
    });
  }
  atr(period: number): IndicatorHandle {
    return this.#get(`atr:${period}`, () => {
      const ind = this.#track(`atr:${period}`, new Atr(period), (p) => Atr.unpack(p, period));
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
      this.#vwap = this.#track('vwap', new Vwap(), (p) => Vwap.unpack(p));
      return this.#vwap;
    });
  }
  bollinger(period: number, k: number): { upper: IndicatorHandle; middle: IndicatorHandle; lower: IndicatorHandle } {
    return this.#get(`bollinger:${period}:${k}`, () => {
      const b = this.#track(`bollinger:${period}:${k}`, new Bollinger(period, k), (p) => Bollinger.unpack(p, period, k));
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
      const precision = this.#precision;
      this.#track(`cross:${fast}:${slow}`, c.detector, (p) => CrossDetector.unpack(p, fast, slow, precision));
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

  /** Names of the packed indicators in slot order, comma-separated: equal layouts restore into each other. */
  get layout(): string {
    return this.#layout;
  }

  /** Float64 slots {@link packInto} writes now (each packed indicator's slot count, then its slots). */
  packedLength(): number {
    const list = this.#packed;
    let n = 0;
    for (let i = 0; i < list.length; i++) n += 1 + (list[i] as Packed).ind.packedLength();
    return n;
  }

  /** Writes the packed indicators' state at `dst[at]` onward without allocating; returns the next offset. */
  packInto(dst: Float64Array, at: number): number {
    const list = this.#packed;
    for (let i = 0; i < list.length; i++) {
      const ind = (list[i] as Packed).ind;
      dst[at] = ind.packedLength();
      at = ind.pack(dst, at + 1);
    }
    return at;
  }

  /** Snapshots of the indicators that do not pack, by key; undefined when every indicator packs. */
  objectSnapshots(): Record<string, unknown> | undefined {
    if (this.#objects.length === 0) return undefined;
    const objects: Record<string, unknown> = {};
    for (const [k, ind] of this.#objects) objects[k] = ind.snapshot();
    return objects;
  }

  /** State of every indicator for checkpoints: packable ones as float64 slots, the others as snapshots by key. */
  snapshot(): SymbolIndicatorsState {
    const packed = new Float64Array(this.packedLength());
    this.packInto(packed, 0);
    return { layout: this.#layout, packed, objects: this.objectSnapshots() ?? {} };
  }

  /**
   * Restores a snapshot taken from a registry with the same registrations (a SymbolIndicatorsState, or
   * the older snapshot-by-key record); every packed part is unpacked before any indicator changes.
   * @throws IndicatorError InvalidState for a snapshot of other registrations or a damaged packed part
   */
  restore(state: SymbolIndicatorsState | Record<string, unknown>): void {
    const byKey = state as Record<string, unknown>;
    if (byKey['packed'] instanceof Float64Array) this.#restorePacked(state as SymbolIndicatorsState);
    else {
      for (const [k, ind] of this.#snapshotters) {
        const s = byKey[k];
        if (s !== undefined) ind.restore(s as never);
      }
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

  #restorePacked(state: SymbolIndicatorsState): void {
    if (state.layout !== this.#layout) {
      throw new IndicatorError('InvalidState', `indicator restore: the checkpoint packs [${state.layout}] but this symbol registers [${this.#layout}]`);
    }
    const src = state.packed;
    const states: unknown[] = [];
    let at = 0;
    for (const p of this.#packed) {
      const len = src[at];
      if (len === undefined || !Number.isInteger(len) || len < 0 || at + 1 + len > src.length) {
        throw new IndicatorError('InvalidState', `indicator restore: ${p.key}'s packed state at slot ${at} is damaged or cut`);
      }
      states.push(p.unpack(src.subarray(at + 1, at + 1 + len)));
      at += 1 + len;
    }
    if (at !== src.length) throw new IndicatorError('InvalidState', `indicator restore: ${src.length - at} packed slots left over`);
    const objects = state.objects as Record<string, unknown> | undefined;
    // each restore validates before it changes anything; if a later one refuses, the earlier ones go back
    const before = this.#snapshotters.map(([, ind]) => ind.snapshot());
    try {
      this.#packed.forEach((p, i) => p.ind.restore(states[i] as never));
      for (const [k, ind] of this.#objects) {
        const s = objects?.[k];
        if (s !== undefined) ind.restore(s as never);
      }
    } catch (e) {
      this.#snapshotters.forEach(([, ind], i) => ind.restore(before[i] as never));
      throw e;
    }
  }
}
