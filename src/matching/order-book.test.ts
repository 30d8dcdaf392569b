import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { L2MatchingEngine } from './engines.js';
import { BacktestError } from './errors.js';
import { limitOrder, marketOrder } from './orders.js';
import { BUY, OrderBook, SELL, type SideCode, type TifCode } from './order-book.js';

/** The obviously correct book: one array per side, sorted by price then arrival, matched by a scan. */
class NaiveBook {
  seq = 0;
  orders: { id: number; side: SideCode; price: number; lots: number; seq: number }[] = [];

  private sorted(side: SideCode) {
    return this.orders
      .filter((o) => o.side === side)
      .sort((a, b) => (a.price !== b.price ? (side === BUY ? b.price - a.price : a.price - b.price) : a.seq - b.seq));
  }

  submit(id: number, side: SideCode, price: number, lots: number, tif: TifCode): { fills: [number, number, number][]; remaining: number } {
    const opp = this.sorted((1 - side) as SideCode).filter((o) => (side === BUY ? o.price <= price : o.price >= price));
    const available = opp.reduce((a, o) => a + o.lots, 0);
    if (tif === 2 && available < lots) return { fills: [], remaining: lots };
    const fills: [number, number, number][] = [];
    let remaining = lots;
    for (const o of opp) {
      if (remaining === 0) break;
      const q = Math.min(o.lots, remaining);
      fills.push([o.id, o.price, q]);
      o.lots -= q;
      remaining -= q;
    }
    this.orders = this.orders.filter((o) => o.lots > 0);
    if (remaining > 0 && tif === 0) this.orders.push({ id, side, price, lots: remaining, seq: this.seq++ });
    return { fills, remaining };
  }

  cancel(id: number): number {
    const o = this.orders.find((x) => x.id === id);
    if (o === undefined) return -1;
    this.orders = this.orders.filter((x) => x !== o);
    return o.lots;
  }

  modify(id: number, price: number, lots: number): { fills: [number, number, number][]; remaining: number } | undefined {
    const o = this.orders.find((x) => x.id === id);
    if (o === undefined) return undefined;
    if (price === o.price && lots <= o.lots) {
      o.lots = lots;
      return { fills: [], remaining: lots };
    }
    this.cancel(id);
    return this.submit(id, o.side, price, lots, 0);
  }

  dump(): [number, SideCode, number, number][] {
    return [...this.sorted(BUY), ...this.sorted(SELL)].map((o) => [o.id, o.side, o.price, o.lots]);
  }
}

function dump(book: OrderBook): [number, SideCode, number, number][] {
  const out: [number, SideCode, number, number][] = [];
  for (const s of [BUY, SELL] as const) book.forEachOrder(s, (id, p, l) => out.push([id, s, p, l]));
  return out;
}

function fillsOf(book: OrderBook): [number, number, number][] {
  const f = book.fills;
  const out: [number, number, number][] = [];
  for (let i = 0; i < f.count; i++) out.push([f.makerIds[i] as number, f.priceTicks[i] as number, f.lots[i] as number]);
  return out;
}

type Op =
  | { k: 'add'; side: SideCode; price: number; lots: number; tif: TifCode }
  | { k: 'market'; side: SideCode; lots: number }
  | { k: 'cancel'; pick: number }
  | { k: 'modify'; pick: number; dPrice: number; lots: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('add' as const), side: fc.constantFrom(BUY, SELL), price: fc.integer({ min: 90, max: 110 }), lots: fc.integer({ min: 1, max: 20 }), tif: fc.constantFrom<TifCode>(0, 0, 0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('market' as const), side: fc.constantFrom(BUY, SELL), lots: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('modify' as const), pick: fc.nat(), dPrice: fc.integer({ min: -3, max: 3 }), lots: fc.integer({ min: 1, max: 25 }) }) },
);

describe('OrderBook against a naive reference book', () => {
  it('gives identical fills, remaining book and conserved quantity for random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 300 }), (ops) => {
        const book = new OrderBook();
        const ref = new NaiveBook();
        let nextId = 1;
        let inLots = 0;
        let filledLots = 0;
        let droppedLots = 0;
        let cancelledLots = 0;
        for (const op of ops) {
          if (op.k === 'add' || op.k === 'market') {
            const id = nextId++;
            const price = op.k === 'market' ? (op.side === BUY ? Infinity : -Infinity) : op.price;
            const tif: TifCode = op.k === 'market' ? 1 : op.tif;
            const r = book.submit(id, op.side, price, op.lots, tif);
            const e = ref.submit(id, op.side, price, op.lots, tif);
            expect(fillsOf(book)).toEqual(e.fills);
            expect(r).toBe(e.remaining);
            inLots += op.lots;
            filledLots += op.lots - r;
            if (tif !== 0) droppedLots += r;
          } else {
            const live = ref.dump();
            if (live.length === 0) continue;
            const target = live[op.pick % live.length] as [number, SideCode, number, number];
            if (op.k === 'cancel') {
              const c = book.cancel(target[0]);
              expect(c).toBe(ref.cancel(target[0]));
              cancelledLots += c;
            } else {
              const price = Math.max(1, target[2] + op.dPrice);
              const before = target[3];
              const e = ref.modify(target[0], price, op.lots) as { fills: [number, number, number][]; remaining: number };
              let r: number;
              if (price === target[2] && op.lots <= before) {
                book.reduce(target[0], op.lots);
                r = op.lots;
                book.fills.count = 0;
              } else {
                book.cancel(target[0]);
                r = book.submit(target[0], target[1], price, op.lots, 0);
              }
              expect(fillsOf(book)).toEqual(e.fills);
              expect(r).toBe(e.remaining);
              // a modify takes `before` out and puts `op.lots` in
              inLots += op.lots - before;
              filledLots += op.lots - r;
            }
          }
          expect(dump(book)).toEqual(ref.dump());
          // conservation: every lot that came in is resting, was filled (taker + maker side), dropped or cancelled
          const resting = dump(book).reduce((a, o) => a + o[3], 0);
          expect(resting + 2 * filledLots + droppedLots + cancelledLots).toBe(inLots);
          expect(book.orderCount).toBe(ref.dump().length);
        }
        const bb = book.best(BUY);
        const ba = book.best(SELL);
        if (!Number.isNaN(bb) && !Number.isNaN(ba)) expect(bb).toBeLessThan(ba);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OrderBook', () => {
  it('rests, matches in price-time priority and reports queue locations', () => {
    const b = new OrderBook();
    expect(b.submit(1, SELL, 101, 5, 0)).toBe(5);
    expect(b.submit(2, SELL, 100, 5, 0)).toBe(5);
    expect(b.submit(3, SELL, 100, 7, 0)).toBe(7);
    expect(b.location(3)).toEqual({ side: SELL, priceTicks: 100, levelIndex: 0, queuePosition: 1, lotsAhead: 5, lots: 7 });
    expect(b.location(1)?.levelIndex).toBe(1);
    expect(b.submit(4, BUY, 101, 14, 1)).toBe(0);
    expect(fillsOf(b)).toEqual([[2, 100, 5], [3, 100, 7], [1, 101, 2]]);
    expect(b.best(SELL)).toBe(101);
    expect(b.bestLots(SELL)).toBe(3);
    expect(b.cancel(99)).toBe(-1);
    expect(() => b.submit(1, BUY, 50, 1, 0)).toThrow(BacktestError);
  });

  it('grows its pools past their initial capacity without losing orders', () => {
    const b = new OrderBook();
    for (let i = 1; i <= 5000; i++) b.submit(i, i % 2 === 0 ? BUY : SELL, i % 2 === 0 ? 10_000 - i : 20_000 + i, i, 0);
    expect(b.orderCount).toBe(5000);
    expect(b.levelCount(BUY)).toBe(2500);
    expect(b.best(BUY)).toBe(9998);
    expect(b.best(SELL)).toBe(20_001);
    for (let i = 1; i <= 5000; i += 2) expect(b.cancel(i)).toBe(i);
    expect(b.levelCount(SELL)).toBe(0);
    expect(b.orderLots(4000)).toBe(4000);
  });

  it('handles ids beyond the directly indexed range', () => {
    const b = new OrderBook();
    const big = [2 ** 24, 2 ** 24 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER];
    for (const [i, id] of big.entries()) b.submit(id, BUY, 100 - i, 1, 0);
    expect(b.orderCount).toBe(4);
    expect(b.location(2 ** 40)?.levelIndex).toBe(2);
    expect(() => b.submit(2 ** 40, BUY, 1, 1, 0)).toThrow('duplicate order id');
    expect(b.submit(7, SELL, 90, 4, 0)).toBe(0);
    expect(fillsOf(b).map((f) => f[0])).toEqual(big);
    expect(b.orderCount).toBe(0);
    expect(b.cancel(2 ** 40)).toBe(-1);
  });
});

describe('L2MatchingEngine (decimal API) against the naive reference book', () => {
  it('gives identical fills and remaining book through submit, cancel and modify', () => {
    const px = (t: number) => (t / 100).toFixed(2);
    const qty = (l: number) => (l / 1000).toFixed(3);
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 150 }), (ops) => {
        const e = new L2MatchingEngine({ tickSize: '0.01', lotSize: '0.001', symbol: 'X' });
        const ref = new NaiveBook();
        let nextId = 1;
        for (const op of ops) {
          let got: { fills: [number, string, string][]; remaining: string };
          let want: { fills: [number, number, number][]; remaining: number };
          if (op.k === 'add' || op.k === 'market') {
            const id = nextId++;
            const side = op.side === BUY ? 'Buy' : 'Sell';
            const tif = (['GTC', 'IOC', 'FOK'] as const)[op.k === 'market' ? 1 : op.tif];
            const r = e.submit(op.k === 'market' ? marketOrder(id, 'X', side, qty(op.lots)) : limitOrder(id, 'X', side, px(op.price), qty(op.lots), tif));
            got = { fills: r.fills.map((f) => [f.makerOrderId, f.price, f.quantity]), remaining: r.remainingQuantity };
            want = ref.submit(id, op.side, op.k === 'market' ? (op.side === BUY ? Infinity : -Infinity) : op.price, op.lots, op.k === 'market' ? 1 : op.tif);
          } else {
            const live = ref.dump();
            if (live.length === 0) continue;
            const target = live[op.pick % live.length] as [number, SideCode, number, number];
            if (op.k === 'cancel') {
              expect(e.cancel(target[0])).toBe(qty(ref.cancel(target[0])));
              continue;
            }
            const price = Math.max(1, target[2] + op.dPrice);
            const r = e.modify(target[0], { price: px(price), quantity: qty(op.lots) });
            got = { fills: r.fills.map((f) => [f.makerOrderId, f.price, f.quantity]), remaining: r.remainingQuantity };
            want = ref.modify(target[0], price, op.lots) as { fills: [number, number, number][]; remaining: number };
          }
          expect(got).toEqual({ fills: want.fills.map(([m, p, l]) => [m, px(p), qty(l)]), remaining: qty(want.remaining) });
        }
        expect(e.exportEntries().map((x) => [x.orderId, x.side === 'Buy' ? BUY : SELL, x.price, x.quantity])).toEqual(ref.dump().map(([id, s, p, l]) => [id, s, px(p), qty(l)]));
      }),
      { numRuns: 150 },
    );
  });
});
