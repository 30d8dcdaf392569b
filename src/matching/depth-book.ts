import type { SideCode } from './order-book.js';

/**
 * An aggregated price-level book (market data, not orders): quantity per price in integer ticks and
 * lots. Each side is a Float64Array indexed by tick offset over a window centred on the first price
 * seen (hftbacktest's range-of-interest depth), so a depth diff is an array write; levels outside
 * the window live in a Map. The best price is tracked and, when its level empties, found again by
 * scanning outward from it, which is short near a busy touch.
 */
export class DepthBook {
  readonly #size: number;
  #base = Number.NaN;
  readonly #qty: [Float64Array, Float64Array];
  readonly #outside: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  #best: [number, number] = [Number.NaN, Number.NaN];
  #count: [number, number] = [0, 0];

  /** `window` is the number of ticks held in arrays per side (default 2^17: +-655 quote units at a 0.01 tick). */
  constructor(window = 1 << 17) {
    this.#size = window;
    this.#qty = [new Float64Array(window), new Float64Array(window)];
  }

  /** Best price in ticks of a side, NaN when empty. */
  best(side: SideCode): number {
    return this.#best[side];
  }

  /** Lots at the best price of a side, 0 when empty. */
  bestLots(side: SideCode): number {
    const b = this.#best[side];
    return Number.isNaN(b) ? 0 : this.lotsAt(side, b);
  }

  /** Lots at a price, 0 when no level. */
  lotsAt(side: SideCode, ticks: number): number {
    const i = ticks - this.#base;
    if (i >= 0 && i < this.#size) return this.#qty[side][i] as number;
    return this.#outside[side].get(ticks) ?? 0;
  }

  /** Number of levels on a side. */
  levels(side: SideCode): number {
    return this.#count[side];
  }

  /** Empties both sides. */
  clear(): void {
    this.#qty[0].fill(0);
    this.#qty[1].fill(0);
    this.#outside[0].clear();
    this.#outside[1].clear();
    this.#best = [Number.NaN, Number.NaN];
    this.#count = [0, 0];
  }

  /** Sets the quantity at a price (0 removes the level), as a depth diff does. */
  set(side: SideCode, ticks: number, lots: number): void {
    if (Number.isNaN(this.#base)) this.#base = ticks - (this.#size >>> 1);
    const i = ticks - this.#base;
    let old: number;
    if (i >= 0 && i < this.#size) {
      const q = this.#qty[side];
      old = q[i] as number;
      q[i] = lots;
    } else {
      const m = this.#outside[side];
      old = m.get(ticks) ?? 0;
      if (lots === 0) m.delete(ticks);
      else m.set(ticks, lots);
    }
    if (lots > 0) {
      if (old === 0) this.#count[side]++;
      const b = this.#best[side];
      if (Number.isNaN(b) || (side === 0 ? ticks > b : ticks < b)) this.#best[side] = ticks;
    } else if (old > 0) {
      this.#count[side]--;
      if (ticks === this.#best[side]) this.#best[side] = this.#next(side, ticks);
    }
  }

  /** The best price strictly worse than `from`, NaN when none. */
  #next(side: SideCode, from: number): number {
    if (this.#count[side] === 0) return Number.NaN;
    const q = this.#qty[side];
    let found = Number.NaN;
    if (side === 0) {
      for (let i = Math.min(from - this.#base - 1, this.#size - 1); i >= 0; i--) {
        if ((q[i] as number) > 0) {
          found = i + this.#base;
          break;
        }
      }
      // outside levels can only win when the window has none below `from`, or `from` lies above the window
      if (Number.isNaN(found) || from - this.#base >= this.#size) {
        for (const p of this.#outside[0].keys()) if (p < from && (Number.isNaN(found) || p > found)) found = p;
      }
    } else {
      for (let i = Math.max(from - this.#base + 1, 0); i < this.#size; i++) {
        if ((q[i] as number) > 0) {
          found = i + this.#base;
          break;
        }
      }
      if (Number.isNaN(found) || from - this.#base < 0) {
        for (const p of this.#outside[1].keys()) if (p > from && (Number.isNaN(found) || p < found)) found = p;
      }
    }
    return found;
  }

  /** Visits a side's levels from the best; stop by returning false. */
  forEachLevel(side: SideCode, visit: (ticks: number, lots: number) => boolean | void): void {
    let p = this.#best[side];
    while (!Number.isNaN(p)) {
      if (visit(p, this.lotsAt(side, p)) === false) return;
      p = this.#next(side, p);
    }
  }
}
