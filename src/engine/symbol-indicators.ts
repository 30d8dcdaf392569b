import { Atr, Bollinger, CrossDetector, Ema, IndicatorError, Macd, RollingRange, Rsi, Slope, Sma, Vwap } from '../indicators/index.js';
import type { CrossHandle, IndicatorHandle, IndicatorRegistry } from '../strategy/types.js';
import type { BarView } from '../strategy/types.js';
import { packRing } from '../indicators/ring.js';

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
  readonly ind: {
    packedLength(): number;
    pack(dst: Float64Array, at: number): number;
    /** The slots before the window(s) only (a windowed indicator, see `shares`). */
    packHead?(dst: Float64Array, at: number): number;
    restore(s: never): void;
  };
  readonly unpack: (packed: Float64Array) => unknown;
  /**
   * How its window relates to the symbol's closes: `scalars` slots (count first) then the last
   * min(count, period) closes (sma, bollinger, slope); or a crossover's two windows of raw scaled closes.
   */
  readonly shares?: { readonly scalars: number; readonly period: number } | { readonly fast: number; readonly slow: number; readonly scale: number };
}

/** Scratch for packing one indicator before its window is compared with the shared closes. */
let scratch = new Float64Array(256);

function sameBits(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : false;
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
  #layout = 'closes;';
  /** The last closes given to update (a ring as long as the longest window): windows are packed as a reference to it. */
  #closes = new Float64Array(0);
  #cPos = 0;
  #cCount = 0;
  /**
   * Every windowed indicator took every close the shared history took (no update threw half way, no
   * restore by key since): their windows are its newest closes by construction, so packing skips them
   * without comparing.
   */
  #synced = true;

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

  #track<T extends { snapshot(): unknown; restore(s: never): void }>(key: string, ind: T, unpack?: (packed: Float64Array) => unknown, shares?: Packed['shares']): T {
    this.#version++;
    this.#snapshotters.push([key, ind]);
    const packable = ind as Partial<Packed['ind']>;
    if (unpack !== undefined && typeof packable.pack === 'function' && typeof packable.packedLength === 'function') {
      this.#packed.push(shares === undefined ? { key, ind: ind as unknown as Packed['ind'], unpack } : { key, ind: ind as unknown as Packed['ind'], unpack, shares });
      this.#layout = `closes;${this.#packed.map((p) => p.key).join(',')}`;
      if (shares !== undefined) this.#needCloses('period' in shares ? shares.period : Math.max(shares.fast, shares.slow));
      this.#maxPacked = -1;
    } else this.#objects.push([key, ind]);
    return ind;
  }

  /** Grows the shared close history to hold at least `n` closes, keeping the ones it has. */
  #needCloses(n: number): void {
    if (n <= this.#closes.length) return;
    const next = new Float64Array(n);
    const kept = packRing(this.#closes, this.#cPos, this.#cCount, this.#closes.length, next, 0);
    this.#closes = next;
    this.#cPos = kept % n;
    this.#cCount = kept;
  }

  sma(period: number): IndicatorHandle {
    return this.#get(`sma:${period}`, () => {
      const ind = this.#track(`sma:${period}`, new Sma(period), (p) => Sma.unpack(p, period), { scalars: 3, period });
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
      const ind = this.#track(`slope:${period}`, new Slope(period), (p) => Slope.unpack(p, period), { scalars: 3, period });
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
      const b = this.#track(`bollinger:${period}:${k}`, new Bollinger(period, k), (p) => Bollinger.unpack(p, period, k), { scalars: 5, period });
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
      this.#track(`cross:${fast}:${slow}`, c.detector, (p) => CrossDetector.unpack(p, fast, slow, precision), { fast, slow, scale: 10 ** precision });
      this.#crosses.push(c);
      return c;
    });
  }

  /** Updates every registered indicator with the bar; `newSession` re-anchors the VWAP first. */
  update(bar: BarView, newSession: boolean): void {
    this.#version++;
    const close = bar.close;
    const cl = this.#closes;
    if (cl.length > 0) {
      cl[this.#cPos] = close;
      this.#cPos = this.#cPos + 1 === cl.length ? 0 : this.#cPos + 1;
      this.#cCount++;
    }
    try {
      this.#updateAll(bar, close, newSession);
    } catch (e) {
      this.#synced = false;
      throw e;
    }
  }

  #updateAll(bar: BarView, close: number, newSession: boolean): void {
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

  /**
   * Changes whenever what packInto writes may change (an update, a restore, a registration): packed
   * slots taken at one version are what packInto would write again while the version is the same.
   */
  get version(): number {
    return this.#version;
  }
  #version = 0;

  /** Names of the packed indicators in slot order, comma-separated: equal layouts restore into each other. */
  get layout(): string {
    return this.#layout;
  }

  /**
   * At most how many float64 slots {@link packInto} writes: the shared closes and every indicator with a
   * full window (the non-windowed ones have a fixed size). Fixed once the registrations are.
   */
  packedLength(): number {
    if (this.#maxPacked < 0) {
      let n = 1 + this.#closes.length;
      for (const p of this.#packed) {
        const sh = p.shares;
        n += 1 + (sh === undefined ? p.ind.packedLength() : 'period' in sh ? sh.scalars + sh.period : 3 + sh.fast + sh.slow);
      }
      this.#maxPacked = n;
    }
    return this.#maxPacked;
  }
  #maxPacked = -1;

  /**
   * Writes the packed indicators' state at `dst[at]` onward without allocating; returns the next offset
   * (at most packedLength() slots). First the shared closes (their count, then oldest first); then per
   * indicator its slot count and slots, except that a window equal to the newest closes (bit for bit) is
   * left out: the count is written negated and only the slots before the window follow. The sma,
   * bollinger and slope windows and a crossover's raw windows are the same closes, so a symbol's windows
   * cost one copy instead of one each.
   */
  packInto(dst: Float64Array, at: number): number {
    const cl = this.#closes;
    const w = Math.min(this.#cCount, cl.length);
    dst[at] = w;
    const c0 = at + 1;
    at = packRing(cl, this.#cPos, this.#cCount, cl.length, dst, c0);
    const list = this.#packed;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Packed;
      const ind = p.ind;
      const sh = p.shares;
      if (sh === undefined) {
        dst[at] = ind.packedLength();
        at = ind.pack(dst, at + 1);
        continue;
      }
      if (this.#synced && ind.packHead !== undefined) {
        // the window is the shared closes': only the slots before it
        dst[at] = 'period' in sh ? -sh.scalars : -3;
        at = ind.packHead(dst, at + 1);
        continue;
      }
      const len = ind.packedLength();
      if (scratch.length < len) scratch = new Float64Array(len * 2);
      ind.pack(scratch, 0);
      let shared = true;
      let head: number;
      if ('period' in sh) {
        head = sh.scalars;
        const wi = len - head;
        if (wi > w) shared = false;
        for (let j = 0; shared && j < wi; j++) if (!sameBits(scratch[head + j] as number, dst[c0 + w - wi + j] as number)) shared = false;
      } else {
        // [relation, fast count, fast window, slow count, slow window] of raw closes (price x 10^precision)
        head = 3;
        const wf = Math.min(scratch[1] as number, sh.fast);
        const sc = 2 + wf;
        const ws = Math.min(scratch[sc] as number, sh.slow);
        if (wf > w || ws > w || sc + 1 + ws !== len) shared = false;
        for (let j = 0; shared && j < wf; j++) if (scratch[2 + j] !== Math.round((dst[c0 + w - wf + j] as number) * sh.scale)) shared = false;
        for (let j = 0; shared && j < ws; j++) if (scratch[sc + 1 + j] !== Math.round((dst[c0 + w - ws + j] as number) * sh.scale)) shared = false;
        if (shared) {
          dst[at] = -3;
          dst[at + 1] = scratch[0] as number;
          dst[at + 2] = scratch[1] as number;
          dst[at + 3] = scratch[sc] as number;
          at += 4;
          continue;
        }
      }
      if (shared) {
        dst[at] = -head;
        for (let j = 0; j < head; j++) dst[at + 1 + j] = scratch[j] as number;
        at += 1 + head;
      } else {
        dst[at] = len;
        for (let j = 0; j < len; j++) dst[at + 1 + j] = scratch[j] as number;
        at += 1 + len;
      }
    }
    return at;
  }

  /** How many indicators are registered (a new registration changes it). */
  get registrations(): number {
    return this.#snapshotters.length;
  }

  /** True when an indicator does not pack (objectSnapshots gives its snapshot). */
  get hasObjects(): boolean {
    return this.#objects.length > 0;
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
    const n = this.packInto(packed, 0);
    return { layout: this.#layout, packed: packed.slice(0, n), objects: this.objectSnapshots() ?? {} };
  }

  /**
   * Restores a snapshot taken from a registry with the same registrations (a SymbolIndicatorsState, or
   * the older snapshot-by-key record); every packed part is unpacked before any indicator changes.
   * @throws IndicatorError InvalidState for a snapshot of other registrations or a damaged packed part
   */
  restore(state: SymbolIndicatorsState | Record<string, unknown>): void {
    this.#version++;
    const byKey = state as Record<string, unknown>;
    if (byKey['packed'] instanceof Float64Array) this.#restorePacked(state as SymbolIndicatorsState);
    else {
      for (const [k, ind] of this.#snapshotters) {
        const s = byKey[k];
        if (s !== undefined) ind.restore(s as never);
      }
      this.#rebuildCloses();
      this.#synced = false;
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

  /**
   * The shared closes after a restore by key: the longest window held (a crossover's raw closes divided
   * back, exact since they were exact multiples). Windows that do not end in it are packed in full.
   */
  #rebuildCloses(): void {
    let best: Float64Array | undefined;
    for (const p of this.#packed) {
      const sh = p.shares;
      if (sh === undefined) continue;
      const len = p.ind.packedLength();
      if (scratch.length < len) scratch = new Float64Array(len * 2);
      p.ind.pack(scratch, 0);
      let win: Float64Array;
      if ('period' in sh) win = scratch.slice(sh.scalars, len);
      else {
        const wf = Math.min(scratch[1] as number, sh.fast);
        win = scratch.slice(3 + wf, len).map((raw) => raw / sh.scale);
      }
      if (best === undefined || win.length > best.length) best = win;
    }
    this.#closes.fill(0);
    const w = Math.min(best?.length ?? 0, this.#closes.length);
    if (best !== undefined) this.#closes.set(best.subarray(best.length - w));
    this.#cCount = w;
    this.#cPos = this.#closes.length === 0 ? 0 : w % this.#closes.length;
  }

  #restorePacked(state: SymbolIndicatorsState): void {
    if (state.layout !== this.#layout) {
      throw new IndicatorError('InvalidState', `indicator restore: the checkpoint packs [${state.layout}] but this symbol registers [${this.#layout}]`);
    }
    const src = state.packed;
    const damaged = (what: string): IndicatorError => new IndicatorError('InvalidState', `indicator restore: ${what} is damaged or cut`);
    const w = src[0];
    if (w === undefined || !Number.isInteger(w) || w < 0 || w > this.#closes.length || 1 + w > src.length) throw damaged('the shared closes block');
    const closes = src.subarray(1, 1 + w);
    const states: unknown[] = [];
    let at = 1 + w;
    let allShared = true;
    for (const p of this.#packed) {
      const len = src[at];
      if (len === undefined || !Number.isInteger(len)) throw damaged(`${p.key}'s packed state at slot ${at}`);
      const sh = p.shares;
      if (len >= 0) {
        if (sh !== undefined) allShared = false;
        if (at + 1 + len > src.length) throw damaged(`${p.key}'s packed state at slot ${at}`);
        states.push(p.unpack(src.subarray(at + 1, at + 1 + len)));
        at += 1 + len;
        continue;
      }
      const head = -len;
      if (sh === undefined || at + 1 + head > src.length) throw damaged(`${p.key}'s packed state at slot ${at}`);
      const h = src.subarray(at + 1, at + 1 + head);
      at += 1 + head;
      if ('period' in sh) {
        const count = h[0] as number;
        if (head !== sh.scalars || !Number.isSafeInteger(count) || count < 0 || Math.min(count, sh.period) > w) throw damaged(`${p.key}'s shared window at slot ${at - 1 - head}`);
        const wi = Math.min(count, sh.period);
        const full = new Float64Array(head + wi);
        full.set(h);
        full.set(closes.subarray(w - wi), head);
        states.push(p.unpack(full));
      } else {
        const fc = h[1] as number;
        const scount = h[2] as number;
        if (head !== 3 || !Number.isSafeInteger(fc) || !Number.isSafeInteger(scount) || fc < 0 || scount < 0 || Math.min(fc, sh.fast) > w || Math.min(scount, sh.slow) > w) {
          throw damaged(`${p.key}'s shared windows at slot ${at - 1 - head}`);
        }
        const wf = Math.min(fc, sh.fast);
        const ws = Math.min(scount, sh.slow);
        const full = new Float64Array(3 + wf + ws);
        full[0] = h[0] as number;
        full[1] = fc;
        for (let j = 0; j < wf; j++) full[2 + j] = Math.round((closes[w - wf + j] as number) * sh.scale);
        full[2 + wf] = scount;
        for (let j = 0; j < ws; j++) full[3 + wf + j] = Math.round((closes[w - ws + j] as number) * sh.scale);
        states.push(p.unpack(full));
      }
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
    this.#closes.fill(0);
    this.#closes.set(closes);
    this.#cCount = w;
    this.#cPos = this.#closes.length === 0 ? 0 : w % this.#closes.length;
    this.#synced = allShared;
  }
}
