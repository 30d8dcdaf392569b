import { checkFinite, IndicatorError, StateReader } from './errors.js';
import type { StreamingIndicator } from './types.js';

/** Snapshot of a {@link Vwap}. */
export interface VwapState {
  kind: 'vwap';
  count: number;
  priceVolume: number;
  volume: number;
}

/**
 * Session-anchored volume-weighted average price: sum(typical * volume) / sum(volume) with typical
 * price (high + low + close) / 3, accumulated from the last `reset()` (call it at each session open).
 * NaN until some volume was seen.
 */
export class Vwap implements StreamingIndicator<VwapState> {
  #count = 0;
  #pv = 0;
  #volume = 0;
  #value = Number.NaN;

  /** Adds one bar and returns the VWAP in price units (NaN while the session's volume is 0). @throws IndicatorError InvalidInput */
  update(high: number, low: number, close: number, volume: number): number {
    checkFinite('Vwap', 'high', high);
    checkFinite('Vwap', 'low', low);
    checkFinite('Vwap', 'close', close);
    checkFinite('Vwap', 'volume', volume);
    if (volume < 0) throw new IndicatorError('InvalidInput', `Vwap: volume must be >= 0, got ${volume}`);
    const typical = (high + low + close) / 3;
    this.#pv += typical * volume;
    this.#volume += volume;
    this.#count++;
    if (this.#volume > 0) this.#value = this.#pv / this.#volume;
    return this.#value;
  }

  get value(): number {
    return this.#value;
  }

  get isReady(): boolean {
    return this.#volume > 0;
  }

  get count(): number {
    return this.#count;
  }

  /** Cumulative volume since the anchor. */
  get volume(): number {
    return this.#volume;
  }

  /** Re-anchors at a session open: forgets every bar. */
  reset(): void {
    this.#count = 0;
    this.#pv = 0;
    this.#volume = 0;
    this.#value = Number.NaN;
  }

  snapshot(): VwapState {
    return { kind: 'vwap', count: this.#count, priceVolume: this.#pv, volume: this.#volume };
  }

  /** Float64 slots {@link pack} writes: count, priceVolume, volume. */
  packedLength(): number {
    return 3;
  }

  /** Writes the snapshot's numbers at `dst[at]` onward (NaN for null), without allocating; returns the next offset. */
  pack(dst: Float64Array, at: number): number {
    dst[at + 0] = this.#count;
    dst[at + 1] = this.#pv;
    dst[at + 2] = this.#volume;
    return at + 3;
  }

  /** The snapshot of a Vwap that {@link pack} wrote as `packed`. */
  static unpack(packed: Float64Array): VwapState {
    return { kind: 'vwap', count: packed[0] as number, priceVolume: packed[1] as number, volume: packed[2] as number };
  }

  restore(state: VwapState): void {
    const r = new StateReader('Vwap', state, 'vwap');
    const count = r.int('count');
    const pv = r.num('priceVolume');
    const volume = r.num('volume');
    if (volume < 0) r.fail(`volume must be >= 0, got ${volume}`);
    this.#count = count;
    this.#pv = pv;
    this.#volume = volume;
    this.#value = volume > 0 ? pv / volume : Number.NaN;
  }
}
