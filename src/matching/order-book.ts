import { BacktestError } from './errors.js';

/** Side code inside the book: 0 buy, 1 sell. */
export type SideCode = 0 | 1;
/** Buy side code. */
export const BUY: SideCode = 0;
/** Sell side code. */
export const SELL: SideCode = 1;
/** Time-in-force code inside the book: 0 GTC, 1 IOC, 2 FOK. */
export type TifCode = 0 | 1 | 2;

/**
 * Fills of the last operation, struct-of-arrays and reused between operations, so matching allocates
 * nothing; `count` entries are valid until the next operation.
 */
export class FillBuffer {
  /** Valid entries. */
  count = 0;
  /** Resting order id of each fill. */
  makerIds = new Float64Array(64);
  /** Price of each fill in ticks (the maker's price). */
  priceTicks = new Float64Array(64);
  /** Lots of each fill. */
  lots = new Float64Array(64);

  /** Appends one fill. */
  push(makerId: number, priceTicks: number, lots: number): void {
    if (this.count === this.makerIds.length) {
      this.makerIds = grow(this.makerIds);
      this.priceTicks = grow(this.priceTicks);
      this.lots = grow(this.lots);
    }
    const i = this.count++;
    this.makerIds[i] = makerId;
    this.priceTicks[i] = priceTicks;
    this.lots[i] = lots;
  }
}

/** Order ids below this index a typed array directly (4 bytes per id); larger ids go through a Map. */
const DIRECT_IDS = 1 << 24;

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
function growI(a: Int32Array<ArrayBuffer>, fill = 0): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2).fill(fill);
  b.set(a);
  return b;
}

/** Where a resting order stands: its level (0 = best) and its place in that level's queue (0 = front). */
export interface QueueLocation {
  readonly side: SideCode;
  readonly priceTicks: number;
  /** 0 for the best level of its side. */
  readonly levelIndex: number;
  /** 0 for the front of the queue. */
  readonly queuePosition: number;
  /** Lots resting ahead of it at its price. */
  readonly lotsAhead: number;
  readonly lots: number;
}

/**
 * A price-time priority limit order book over integer ticks and lots.
 *
 * Layout: orders live in pooled struct-of-arrays slots linked into one intrusive FIFO queue per
 * price level; levels are pooled too. Each side keeps its level slots sorted with the best level
 * at the END of an Int32Array, so the best is O(1), consuming the best is a pop, and new levels near
 * the touch are inserted with a short copyWithin. A Map per side finds a level by price and one Map
 * finds an order by id. Nothing is allocated per operation once the pools are warm.
 */
export class OrderBook {
  /** Fills of the last submit. */
  readonly fills = new FillBuffer();
  #oId = new Float64Array(1024);
  #oLots = new Float64Array(1024);
  #oLevel = new Int32Array(1024);
  #oNext = new Int32Array(1024).fill(-1);
  #oPrev = new Int32Array(1024).fill(-1);
  #oFree = -1;
  #oTop = 0;

  #lPrice = new Float64Array(256);
  #lLots = new Float64Array(256);
  #lCount = new Int32Array(256);
  #lHead = new Int32Array(256).fill(-1);
  #lTail = new Int32Array(256).fill(-1);
  #lSide = new Uint8Array(256);
  #lFree = -1;
  #lTop = 0;

  // [0] bids ascending by price, [1] asks descending by price: the best is last
  #sorted: [Int32Array<ArrayBuffer>, Int32Array<ArrayBuffer>] = [new Int32Array(256), new Int32Array(256)];
  #len: [number, number] = [0, 0];
  #levelByPrice: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  // ids below DIRECT_IDS index slots directly (slot + 1, 0 = none): no hashing, no boxing on the hot path
  #direct = new Int32Array(1024);
  #byIdOverflow = new Map<number, number>();
  #orderCount = 0;

  /** Number of resting orders. */
  get orderCount(): number {
    return this.#orderCount;
  }

  /** Number of price levels on a side. */
  levelCount(side: SideCode): number {
    return this.#len[side];
  }

  /** Best price in ticks of a side, or NaN when the side is empty. */
  best(side: SideCode): number {
    const n = this.#len[side];
    return n === 0 ? Number.NaN : (this.#lPrice[this.#sorted[side][n - 1] as number] as number);
  }

  /** Total lots resting at the best level of a side (0 when empty). */
  bestLots(side: SideCode): number {
    const n = this.#len[side];
    return n === 0 ? 0 : (this.#lLots[this.#sorted[side][n - 1] as number] as number);
  }

  /** Whether an order id is resting. */
  has(id: number): boolean {
    return this.#slotOf(id) !== -1;
  }

  /** Lots resting at a price on a side (0 when no level). */
  lotsAt(side: SideCode, priceTicks: number): number {
    const l = this.#levelByPrice[side].get(priceTicks);
    return l === undefined ? 0 : (this.#lLots[l] as number);
  }

  /** Remaining lots of a resting order, or 0 when it is not resting. */
  orderLots(id: number): number {
    const s = this.#slotOf(id);
    return s === -1 ? 0 : (this.#oLots[s] as number);
  }

  /** Price in ticks of a resting order, or NaN. */
  orderPrice(id: number): number {
    const s = this.#slotOf(id);
    return s === -1 ? Number.NaN : (this.#lPrice[this.#oLevel[s] as number] as number);
  }

  /** Side of a resting order, or -1. */
  orderSide(id: number): SideCode | -1 {
    const s = this.#slotOf(id);
    return s === -1 ? -1 : (this.#lSide[this.#oLevel[s] as number] as SideCode);
  }

  /**
   * Submits an order: matches it against the opposite side in price-time priority, then rests the
   * remainder (GTC) or drops it (IOC, FOK). A market order is an IOC at price Infinity (buy) or
   * -Infinity (sell). Fills land in `fills`; returns the lots not filled. This is the trusted fast
   * path: lots must be positive integers and prices integers (the engines validate before calling).
   * @throws BacktestError Matching on a duplicate resting id
   */
  submit(id: number, side: SideCode, priceTicks: number, lots: number, tif: TifCode): number {
    this.fills.count = 0;
    if (this.#slotOf(id) !== -1) throw new BacktestError('Matching', `duplicate order id: ${id}`);
    if (tif === 2 && this.crossingLots(side, priceTicks, lots) < lots) return lots;
    const remaining = this.#match(side, priceTicks, lots);
    if (remaining > 0 && tif === 0) this.#rest(id, side, priceTicks, remaining);
    return remaining;
  }

  /** Cancels a resting order; returns the lots it still had, or -1 when it is not resting. */
  cancel(id: number): number {
    const s = this.#slotOf(id);
    if (s === -1) return -1;
    const lots = this.#oLots[s] as number;
    this.#remove(s);
    return lots;
  }

  /** Reduces a resting order to `lots` (0 < lots <= current) keeping its queue place; false when not resting. */
  reduce(id: number, lots: number): boolean {
    const s = this.#slotOf(id);
    if (s === -1) return false;
    const l = this.#oLevel[s] as number;
    this.#lLots[l] = (this.#lLots[l] as number) - ((this.#oLots[s] as number) - lots);
    this.#oLots[s] = lots;
    return true;
  }

  /** Lots on the opposite side that an order of `side` at `priceTicks` could take (at least `need` once reached). */
  crossingLots(side: SideCode, priceTicks: number, need: number): number {
    const opp = (1 - side) as SideCode;
    const arr = this.#sorted[opp];
    let got = 0;
    for (let i = this.#len[opp] - 1; i >= 0 && got < need; i--) {
      const l = arr[i] as number;
      const p = this.#lPrice[l] as number;
      if (side === 0 ? p > priceTicks : p < priceTicks) break;
      got += this.#lLots[l] as number;
    }
    return got;
  }

  #match(side: SideCode, priceTicks: number, lots: number): number {
    const opp = (1 - side) as SideCode;
    const arr = this.#sorted[opp];
    const fills = this.fills;
    let remaining = lots;
    while (remaining > 0) {
      const n = this.#len[opp];
      if (n === 0) break;
      const l = arr[n - 1] as number;
      const p = this.#lPrice[l] as number;
      if (side === 0 ? p > priceTicks : p < priceTicks) break;
      let s = this.#lHead[l] as number;
      while (s !== -1 && remaining > 0) {
        const have = this.#oLots[s] as number;
        const q = have < remaining ? have : remaining;
        fills.push(this.#oId[s] as number, p, q);
        remaining -= q;
        if (q === have) {
          const next = this.#oNext[s] as number;
          this.#unbind(this.#oId[s] as number);
          this.#lCount[l] = (this.#lCount[l] as number) - 1;
          this.#lLots[l] = (this.#lLots[l] as number) - q;
          this.#lHead[l] = next;
          if (next === -1) this.#lTail[l] = -1;
          else this.#oPrev[next] = -1;
          this.#freeOrder(s);
          s = next;
        } else {
          this.#oLots[s] = have - q;
          this.#lLots[l] = (this.#lLots[l] as number) - q;
        }
      }
      if (this.#lHead[l] === -1) {
        this.#len[opp] = n - 1;
        this.#levelByPrice[opp].delete(p);
        this.#freeLevel(l);
      }
    }
    return remaining;
  }

  #rest(id: number, side: SideCode, priceTicks: number, lots: number): void {
    let l = this.#levelByPrice[side].get(priceTicks);
    if (l === undefined) l = this.#newLevel(side, priceTicks);
    const s = this.#allocOrder();
    this.#oId[s] = id;
    this.#oLots[s] = lots;
    this.#oLevel[s] = l;
    this.#oNext[s] = -1;
    const tail = this.#lTail[l] as number;
    this.#oPrev[s] = tail;
    if (tail === -1) this.#lHead[l] = s;
    else this.#oNext[tail] = s;
    this.#lTail[l] = s;
    this.#lLots[l] = (this.#lLots[l] as number) + lots;
    this.#lCount[l] = (this.#lCount[l] as number) + 1;
    this.#bind(id, s);
  }

  #remove(s: number): void {
    const l = this.#oLevel[s] as number;
    const prev = this.#oPrev[s] as number;
    const next = this.#oNext[s] as number;
    if (prev === -1) this.#lHead[l] = next;
    else this.#oNext[prev] = next;
    if (next === -1) this.#lTail[l] = prev;
    else this.#oPrev[next] = prev;
    this.#lLots[l] = (this.#lLots[l] as number) - (this.#oLots[s] as number);
    this.#lCount[l] = (this.#lCount[l] as number) - 1;
    this.#unbind(this.#oId[s] as number);
    this.#freeOrder(s);
    if (this.#lHead[l] === -1) this.#dropLevel(l);
  }

  #newLevel(side: SideCode, priceTicks: number): number {
    let l = this.#lFree;
    if (l !== -1) {
      this.#lFree = this.#lHead[l] as number;
    } else {
      if (this.#lTop === this.#lPrice.length) this.#growLevels();
      l = this.#lTop++;
    }
    this.#lPrice[l] = priceTicks;
    this.#lLots[l] = 0;
    this.#lCount[l] = 0;
    this.#lHead[l] = -1;
    this.#lTail[l] = -1;
    this.#lSide[l] = side;
    this.#levelByPrice[side].set(priceTicks, l);
    let arr = this.#sorted[side];
    const n = this.#len[side];
    if (n === arr.length) {
      arr = growI(arr);
      this.#sorted[side] = arr;
    }
    const i = this.#insertionIndex(side, priceTicks);
    if (i < n) arr.copyWithin(i + 1, i, n);
    arr[i] = l;
    this.#len[side] = n + 1;
    return l;
  }

  /** Index just past the level at `priceTicks` in the side's order (bids ascending, asks descending). */
  #insertionIndex(side: SideCode, priceTicks: number): number {
    const arr = this.#sorted[side];
    const lp = this.#lPrice;
    let lo = 0;
    let hi = this.#len[side];
    // the first index whose price is beyond priceTicks in the side's sort order
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = lp[arr[mid] as number] as number;
      if (side === 0 ? p <= priceTicks : p >= priceTicks) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #dropLevel(l: number): void {
    const side = this.#lSide[l] as SideCode;
    const arr = this.#sorted[side];
    const n = this.#len[side];
    const i = this.#insertionIndex(side, this.#lPrice[l] as number) - 1;
    if (i < n - 1) arr.copyWithin(i, i + 1, n);
    this.#len[side] = n - 1;
    this.#levelByPrice[side].delete(this.#lPrice[l] as number);
    this.#freeLevel(l);
  }

  #freeLevel(l: number): void {
    this.#lHead[l] = this.#lFree;
    this.#lFree = l;
  }

  #slotOf(id: number): number {
    // a typed array read at a negative or fractional index is undefined, so such ids fall through
    const d = this.#direct[id];
    if (d !== undefined) return d - 1;
    const s = this.#byIdOverflow.get(id);
    return s === undefined ? -1 : s;
  }

  #bind(id: number, s: number): void {
    this.#orderCount++;
    const direct = Number.isInteger(id) && id >= 0 && id < DIRECT_IDS;
    if (direct && id >= this.#direct.length) {
      let n = this.#direct.length * 2;
      while (n <= id) n *= 2;
      const d = new Int32Array(Math.min(n, DIRECT_IDS));
      d.set(this.#direct);
      this.#direct = d;
    }
    if (direct) this.#direct[id] = s + 1;
    else this.#byIdOverflow.set(id, s);
  }

  #unbind(id: number): void {
    this.#orderCount--;
    if (this.#direct[id] !== undefined) this.#direct[id] = 0;
    else this.#byIdOverflow.delete(id);
  }

  #allocOrder(): number {
    const s = this.#oFree;
    if (s !== -1) {
      this.#oFree = this.#oNext[s] as number;
      return s;
    }
    if (this.#oTop === this.#oId.length) this.#growOrders();
    return this.#oTop++;
  }

  #freeOrder(s: number): void {
    this.#oNext[s] = this.#oFree;
    this.#oFree = s;
  }

  #growOrders(): void {
    this.#oId = grow(this.#oId);
    this.#oLots = grow(this.#oLots);
    this.#oLevel = growI(this.#oLevel);
    this.#oNext = growI(this.#oNext, -1);
    this.#oPrev = growI(this.#oPrev, -1);
  }

  #growLevels(): void {
    this.#lPrice = grow(this.#lPrice);
    this.#lLots = grow(this.#lLots);
    this.#lCount = growI(this.#lCount);
    this.#lHead = growI(this.#lHead, -1);
    this.#lTail = growI(this.#lTail, -1);
    const side = new Uint8Array(this.#lSide.length * 2);
    side.set(this.#lSide);
    this.#lSide = side;
  }

  /** Where a resting order stands in its side and queue, or undefined when it is not resting. */
  location(id: number): QueueLocation | undefined {
    const s = this.#slotOf(id);
    if (s === -1) return undefined;
    const l = this.#oLevel[s] as number;
    const side = this.#lSide[l] as SideCode;
    const n = this.#len[side];
    const i = this.#insertionIndex(side, this.#lPrice[l] as number) - 1;
    let pos = 0;
    let ahead = 0;
    for (let t = this.#lHead[l] as number; t !== s; t = this.#oNext[t] as number) {
      pos++;
      ahead += this.#oLots[t] as number;
    }
    return { side, priceTicks: this.#lPrice[l] as number, levelIndex: n - 1 - i, queuePosition: pos, lotsAhead: ahead, lots: this.#oLots[s] as number };
  }

  /** Visits the levels of a side from the best: (priceTicks, lots, orderCount); stop early by returning false. */
  forEachLevel(side: SideCode, visit: (priceTicks: number, lots: number, orders: number) => boolean | void): void {
    const arr = this.#sorted[side];
    for (let i = this.#len[side] - 1; i >= 0; i--) {
      const l = arr[i] as number;
      if (visit(this.#lPrice[l] as number, this.#lLots[l] as number, this.#lCount[l] as number) === false) return;
    }
  }

  /** Visits the resting orders of a side in priority order (best level first, then time). */
  forEachOrder(side: SideCode, visit: (id: number, priceTicks: number, lots: number) => void): void {
    const arr = this.#sorted[side];
    for (let i = this.#len[side] - 1; i >= 0; i--) {
      const l = arr[i] as number;
      const p = this.#lPrice[l] as number;
      for (let s = this.#lHead[l] as number; s !== -1; s = this.#oNext[s] as number) visit(this.#oId[s] as number, p, this.#oLots[s] as number);
    }
  }
}
