import { describe, expect, it } from 'vitest';
import { LiveClock, Rng, TestClock } from '../core/index.js';
import {
  OmsError,
  OrderManager,
  Portfolio,
  limitOrder,
  makeOrderStatus,
  marketOrder,
  seededUuid,
} from './index.js';

// The seed's "axon_quant.oms" section, example by example, with the same values.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof OmsError) return e.args[0];
    throw e;
  }
  return undefined;
}

describe('seed: axon_quant.oms', () => {
  it('full order lifecycle + portfolio update', () => {
    const mgr = new OrderManager();
    mgr.deposit('USDT', 100_000);
    const oid = mgr.submit(limitOrder('BTC-USDT', 'Buy', 1, 50_000, 'my-bot-001'));
    expect(oid).toHaveLength(36);
    expect(oid).toMatch(UUID_RE);
    expect(mgr.activeCount()).toBe(1);
    mgr.updateStatus(oid, makeOrderStatus('Acknowledged'));
    mgr.addFill({ orderId: oid, fillId: 'f1', symbol: 'BTC-USDT', price: 50_000, quantity: '0.6', fee: 0 });
    const s = mgr.getOrderStatus(oid);
    expect(s?.kind).toBe('PartiallyFilled');
    expect(s?.filledQty).toBe('0.6');
    const snap = mgr.snapshotBalance();
    expect(snap.cash.USDT).toBe('70000.0');
    const pos = snap.positions['BTC-USDT'];
    expect(pos?.quantity).toBe('0.6');
    expect(pos?.avgPrice).toBe('50000');
    mgr.addFill({ orderId: oid, fillId: 'f2', symbol: 'BTC-USDT', price: 51_000, quantity: '0.4', fee: 0 });
    expect(mgr.getOrderStatus(oid)).toBeUndefined();
    expect(mgr.activeCount()).toBe(0);
    expect(mgr.historyCount()).toBe(1);
    const rec = mgr.getOrder(oid);
    expect(rec?.status.kind).toBe('Filled');
    expect(rec?.status.avgPrice).toBe('50400');
    expect(mgr.snapshotBalance().cash.USDT).toBe('49600.0');
    expect(mgr.snapshotPositions()['BTC-USDT']?.quantity).toBe('1.0');
    expect(mgr.snapshotPositions()['BTC-USDT']?.avgPrice).toBe('50400');
  });

  it('batch submission + idempotency key', () => {
    const mgr = new OrderManager();
    const oidA = mgr.submit(limitOrder('BTC-USDT', 'Buy', '0.1', 50_000, 'batch-1'));
    expect(oidA).toMatch(UUID_RE);
    expect(codeOf(() => mgr.submit(limitOrder('BTC-USDT', 'Buy', '0.1', 50_000, 'batch-1')))).toBe('DuplicateIdempotencyKey');
    const oids = mgr.batchSubmit([
      limitOrder('ETH-USDT', 'Buy', 1, 3_000, 'batch-2'),
      limitOrder('SOL-USDT', 'Buy', 10, 100, 'batch-3'),
    ]);
    expect(oids).toHaveLength(2);
    expect(mgr.activeCount()).toBe(3);
  });

  it('OrderStatus field access and the terminal predicate', () => {
    const status = makeOrderStatus('PartiallyFilled', { filledQty: '0.6', avgPrice: 50_000 });
    expect(status.kind).toBe('PartiallyFilled');
    expect(status.filledQty).toBe('0.6');
    expect(status.avgPrice).toBe('50000');
    expect(status.isTerminal()).toBe(false);
    const filled = makeOrderStatus('Filled', { filledQty: 1, avgPrice: 50_000 });
    expect(filled.isTerminal()).toBe(true);
    const cancelled = makeOrderStatus('Cancelled', { reason: 'user_cancelled' });
    expect(cancelled.isTerminal()).toBe(true);
    expect(cancelled.reason).toBe('user_cancelled');
  });

  it('standalone Portfolio', () => {
    const p = new Portfolio();
    p.deposit('USDT', 100_000);
    p.deposit('BTC', '1.5');
    p.applyFill({ fillId: 'f1', symbol: 'BTC-USDT', price: 50_000, quantity: '0.6', fee: 0 });
    expect(p.cash.USDT).toBe('70000.0');
    expect(p.cash.BTC).toBe('1.5');
    expect(p.positions['BTC-USDT']?.quantity).toBe('0.6');
    expect(p.positionCount()).toBe(1);
    const d = p.toDict();
    expect(d.positionCount).toBe(1);
    expect(d.cash).toEqual({ USDT: '70000.0', BTC: '1.5' });
    expect(d.positions['BTC-USDT']).toMatchObject({ symbol: 'BTC-USDT', quantity: '0.6', avgPrice: '50000', realizedPnl: '0' });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('decimal bridge: lossless strings', () => {
    const o = limitOrder('BTC-USDT', 'Buy', '0.1', '50000.5');
    expect(o.quantity.toString()).toBe('0.1');
    expect(o.price?.toString()).toBe('50000.5');
    expect(o.orderType).toBe('Limit');
    expect(marketOrder('BTC-USDT', 'Sell', '0.1').price).toBeUndefined();
  });

  it('OmsError: e.args carries the code and the "[Code] text" message', () => {
    const mgr = new OrderManager();
    try {
      mgr.cancel('not-a-uuid');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OmsError);
      const err = e as OmsError;
      expect(err.args[0]).toBe('OrderNotFound');
      expect(err.args[1]).toBe('[OrderNotFound] order not found: not-a-uuid');
    }
  });

  it('deterministic ids and timestamps from injected Rng and Clock', () => {
    const run = () => {
      const clock = new TestClock(1_700_000_000_000_000_000n);
      const mgr = new OrderManager({ clock, idGenerator: seededUuid(new Rng(42)) });
      const ids = [mgr.submit(limitOrder('BTC-USDT', 'Buy', 1, 1)), mgr.submit(limitOrder('BTC-USDT', 'Buy', 1, 1))];
      clock.advance(5n);
      mgr.cancel(ids[0] ?? '');
      return { ids, rec: mgr.getOrder(ids[0] ?? '') };
    };
    const a = run();
    const b = run();
    expect(a.ids).toEqual(b.ids);
    for (const id of a.ids) expect(id).toMatch(UUID_RE);
    expect(a.ids[0]).not.toBe(a.ids[1]);
    expect(a.rec?.createdAt).toBe(1_700_000_000_000_000_000n);
    expect(a.rec?.updatedAt).toBe(1_700_000_000_000_000_005n);
    expect(new OrderManager({ clock: new LiveClock() }).submit(marketOrder('X-USD', 'Buy', 1))).toMatch(UUID_RE);
  });
});
