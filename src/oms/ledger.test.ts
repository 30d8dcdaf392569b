import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../core/decimal.js';
import { Rng } from '../core/rng.js';
import { TestClock } from '../core/clock.js';
import { Portfolio } from './portfolio.js';
import { OrderManager, seededUuid } from './manager.js';
import { limitOrder } from './order.js';
import { makeOrderStatus } from './status.js';

// the manager keeps which order took each fill id inside its portfolio's fill ledger and retained
// terminal orders in a queue; these tests pin the cases those structures must still get right

function counter(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

describe('fill ledger shared by the manager and its portfolio', () => {
  it('two managers on one portfolio keep their fill owners apart', () => {
    const clock = new TestClock(0n);
    const portfolio = new Portfolio({ accountType: 'margin', clock });
    const a = new OrderManager({ clock, portfolio, idGenerator: counter('a') });
    const b = new OrderManager({ clock, portfolio, idGenerator: counter('b') });
    const ida = a.submit(limitOrder('BTC-USD', 'Buy', '1', '100'));
    const idb = b.submit(limitOrder('BTC-USD', 'Buy', '1', '100'));
    expect(a.addFill({ orderId: ida, fillId: 'x1', price: '100', quantity: '0.5' })).toBe(true);
    // b never took x1: the portfolio recognises the same data as a replay, and b records no owner
    expect(b.addFill({ orderId: idb, fillId: 'x1', price: '100', quantity: '0.5' })).toBe(false);
    expect(b.getOrder(idb)?.filledQty.toString()).toBe('0');
    expect(a.snapshot().fillOrders).toEqual({ fillIds: ['x1'], orderIds: [ida] });
    expect(b.snapshot().fillOrders).toEqual({ fillIds: [], orderIds: [] });
    // a's own replay is a no-op, and a's fill id on another of a's orders is refused naming the owner
    expect(a.addFill({ orderId: ida, fillId: 'x1', price: '100', quantity: '0.5' })).toBe(false);
    const other = a.submit(limitOrder('BTC-USD', 'Buy', '1', '100'));
    expect(() => a.addFill({ orderId: other, fillId: 'x1', price: '100', quantity: '0.5' })).toThrowError(
      `[Portfolio] fill x1 was already applied to order ${ida}, not ${other}`,
    );
    expect(portfolio.cash.USD).toBe('-50.0');
  });

  it('a fill applied straight to the portfolio is a replay for the manager, which records no owner', () => {
    const clock = new TestClock(0n);
    const m = new OrderManager({ clock, idGenerator: counter('o'), portfolio: { accountType: 'margin' } });
    m.portfolio.applyFill({ fillId: 'p1', symbol: 'ETH-USD', side: 'Buy', price: '10', quantity: '2' });
    const id = m.submit(limitOrder('ETH-USD', 'Buy', '2', '10'));
    expect(m.addFill({ orderId: id, fillId: 'p1', price: '10', quantity: '2' })).toBe(false);
    expect(m.getOrderStatus(id)?.kind).toBe('New');
    expect(m.snapshot().fillOrders.fillIds).toEqual([]);
  });
});

describe('history queue', () => {
  it('drops the oldest terminal orders past historyLimit across queue compactions, and every lookup agrees', () => {
    const clock = new TestClock(0n);
    const limit = 300;
    const total = 5000;
    const m = new OrderManager({ clock, historyLimit: limit, idGenerator: seededUuid(new Rng(3)), portfolio: { accountType: 'margin' } });
    const ids: string[] = [];
    const ack = makeOrderStatus('Acknowledged');
    for (let i = 0; i < total; i++) {
      const id = m.submit(limitOrder('BTC-USD', i % 2 === 0 ? 'Buy' : 'Sell', '0.5', '100'));
      ids.push(id);
      m.updateStatus(id, ack);
      if (i % 3 === 0) m.cancel(id, 'test');
      else m.addFill({ orderId: id, fillId: `f${i}`, price: `${100 + (i % 7)}.5`, quantity: '0.5' });
    }
    expect(m.historyCount()).toBe(total);
    expect(m.activeCount()).toBe(0);
    const kept = ids.slice(total - limit);
    expect(m.snapshot().history.map((o) => o.id)).toEqual(kept);
    expect(m.toDict().history.map((o) => o.id)).toEqual(kept);
    for (const id of ids.slice(0, total - limit)) expect(m.getOrder(id)).toBeUndefined();
    for (const [k, id] of kept.entries()) {
      const i = total - limit + k;
      const rec = m.getOrder(id);
      expect(rec?.status.kind).toBe(i % 3 === 0 ? 'Cancelled' : 'Filled');
      if (i % 3 !== 0) {
        expect(rec?.status.avgPrice).toBe(`${100 + (i % 7)}.5`);
        // price (100 + k).5 x 0.5 at precision 1 + 1
        expect(rec?.filledNotional.toString()).toBe(Decimal.fromRaw(BigInt((201 + 2 * (i % 7)) * 25), 2).toString());
      }
    }
    // a dropped order's fill replays as a no-op; an unknown order id is still OrderNotFound
    expect(m.addFill({ orderId: ids[1] as string, fillId: 'f1', price: '101.5', quantity: '0.5' })).toBe(false);
    expect(() => m.addFill({ orderId: ids[3] as string, fillId: 'new', price: '100', quantity: '0.5' })).toThrowError(`[OrderNotFound] order not found: ${ids[3] as string}`);
  });

  // seededUuid and randomUUID ids index the history lazily (on the first lookup that needs it); any
  // other generator's ids are indexed on submit. Both must answer every call alike.
  const op = fc.oneof(
    fc.record({ k: fc.constant('submit' as const), side: fc.boolean() }),
    fc.record({ k: fc.constantFrom('ack' as const, 'cancel' as const, 'get' as const), pick: fc.nat() }),
    fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), half: fc.boolean(), replay: fc.boolean() }),
  );
  it('lazy history index (built-in generator) and eager index (any other) give the same results, lookups interleaved', () => {
    fc.assert(
      fc.property(fc.constantFrom(undefined, 0, 2, 7), fc.array(op, { minLength: 1, maxLength: 400 }), (limit, ops) => {
        const make = (lazy: boolean): OrderManager => {
          const g = seededUuid(new Rng(11));
          return new OrderManager({
            clock: new TestClock(0n),
            idGenerator: lazy ? g : () => g(),
            portfolio: { accountType: 'margin' },
            ...(limit === undefined ? {} : { historyLimit: limit }),
          });
        };
        const lazy = make(true);
        const eager = make(false);
        const ids: string[] = [];
        let fills = 0;
        const run = (m: OrderManager, o: (typeof ops)[number]): unknown => {
          try {
            switch (o.k) {
              case 'submit':
                return m.submit(limitOrder('BTC-USD', o.side ? 'Buy' : 'Sell', '1', '100'));
              case 'ack':
                return m.updateStatus(ids[o.pick % ids.length] as string, makeOrderStatus('Acknowledged')).toDict();
              case 'cancel':
                return m.cancel(ids[o.pick % ids.length] as string, 'x').toDict();
              case 'get':
                return m.getOrder(ids[o.pick % ids.length] as string)?.status.toDict() ?? null;
              case 'fill':
                return m.addFill({ orderId: ids[o.pick % ids.length] as string, fillId: `f${o.replay ? 0 : fills}`, price: '100', quantity: o.half ? '0.5' : '1' });
            }
          } catch (e) {
            return String(e);
          }
        };
        for (const o of ops) {
          if (o.k !== 'submit' && ids.length === 0) continue;
          const a = run(lazy, o);
          expect(run(eager, o)).toEqual(a);
          if (o.k === 'submit') ids.push(a as string);
          if (o.k === 'fill' && a === true && !o.replay) fills++;
        }
        expect(JSON.stringify(lazy.toDict())).toBe(JSON.stringify(eager.toDict()));
        expect(lazy.historyCount()).toBe(eager.historyCount());
      }),
      { numRuns: 60 },
    );
  });

  it('after a restore, a seeded generator started again is refused the restored ids', () => {
    const clock = new TestClock(0n);
    const a = new OrderManager({ clock, idGenerator: seededUuid(new Rng(5)), portfolio: { accountType: 'margin' } });
    const first = a.submit(limitOrder('BTC-USD', 'Buy', '1', '100'));
    a.cancel(first);
    const b = new OrderManager({ clock, idGenerator: seededUuid(new Rng(5)), portfolio: { accountType: 'margin' } });
    b.restore(a.snapshot());
    expect(() => b.submit(limitOrder('BTC-USD', 'Buy', '1', '100'))).toThrowError(`[InvalidTransition] id generator returned an id already in use: ${first}`);
    expect(b.getOrder(first)?.status.kind).toBe('Cancelled');
    // a fresh seed goes on as usual
    const c = new OrderManager({ clock, idGenerator: seededUuid(new Rng(6)), portfolio: { accountType: 'margin' } });
    c.restore(a.snapshot());
    const next = c.submit(limitOrder('BTC-USD', 'Buy', '1', '100'));
    expect(next).not.toBe(first);
    expect(c.getOrder(first)?.status.kind).toBe('Cancelled');
  });
});
