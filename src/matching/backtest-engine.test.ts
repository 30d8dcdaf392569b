import { describe, expect, it } from 'vitest';
import { BacktestEngine } from './backtest-engine.js';
import { limitOrder, marketOrder } from './orders.js';

describe('seed example 3: event-driven backtest', () => {
  it('processes two events, books one fill and keeps the NAV at the initial cash', () => {
    const bt = new BacktestEngine(100_000);
    bt.pushEvent({ type: 'order_submitted', timestampNs: 1_000, order: limitOrder(1, 'BTC-USDT', 'Sell', '100.0', '1.0') });
    bt.pushEvent({ type: 'order_submitted', timestampNs: 2_000, order: limitOrder(2, 'BTC-USDT', 'Buy', '100.0', '1.0') });
    const result = bt.run();
    expect([result.eventsProcessed, result.fills, result.finalNav.toString()]).toEqual([2, 1, '100000.0000000000 USDT']);
    expect(result.finalNav.eq(bt.initialCash)).toBe(true);
    expect(result.pnl.isZero()).toBe(true);
  });
});

describe('BacktestEngine', () => {
  it('orders events by timestamp, books external fills exactly, tracks drawdown and rejects unknown ids', () => {
    const bt = new BacktestEngine('1000', { tickSize: '0.01', lotSize: '0.001' });
    // pushed out of order: the cancel at t=30 must run after the submit at t=10
    bt.pushEvent({ type: 'order_cancelled', timestampNs: 30n, orderId: 1 });
    bt.pushEvent({ type: 'order_submitted', timestampNs: 10n, order: limitOrder(1, 'ETH', 'Buy', '10.10', '2') });
    bt.pushEvent({ type: 'order_submitted', timestampNs: 20n, order: limitOrder(2, 'ETH', 'Buy', '10.00', '3') });
    bt.pushEvent({ type: 'fill', timestampNs: 40n, price: '10.00', quantity: '1.5', buyerOrderId: 2, sellerOrderId: 999 });
    bt.pushEvent({ type: 'fill', timestampNs: 50n, price: '9.00', quantity: '0.1', buyerOrderId: 500, sellerOrderId: 501, symbol: 'ETH' });
    bt.pushEvent({ type: 'order_modified', timestampNs: 60n, orderId: 77, newPrice: '1' });
    bt.pushEvent({ type: 'order_modified', timestampNs: 70n, orderId: 2, newQuantity: '1' });
    const r = bt.run();
    expect(r.eventsProcessed).toBe(7);
    expect(r.stats).toEqual({ eventsProcessed: 7, ordersSubmitted: 2, ordersCancelled: 1, ordersModified: 1, externalFills: 2, fills: 1, rejected: 1 });
    expect(r.rejections).toEqual([{ index: 5, timestampNs: 60n, code: 'Matching', message: '[Matching] order not found: 77' }]);
    // bought 1.5 at 10.00: cash 985, marked at the last print 9.00 -> NAV 998.5, drawdown 1.5
    expect(r.cash.amountString()).toBe('985.000');
    expect(r.positions).toEqual({ ETH: '1.5' });
    expect(r.finalNav.amountString()).toBe('998.500');
    expect(r.pnl.amountString()).toBe('-1.500');
    expect(r.maxDrawdown.amountString()).toBe('1.500');
    expect(r.maxDrawdownFraction).toBeCloseTo(0.0015, 10);
    expect(r.fillLog[0]).toMatchObject({ takerOrderId: 2, makerOrderId: 999, price: '10.00', quantity: '1.5', takerSide: 'BUY', external: true });
  });

  it('a cross between two of its own orders nets to zero cash and position; a partial market order books only its fill', () => {
    const bt = new BacktestEngine('500', { tickSize: '1', lotSize: '1' });
    bt.pushEvent({ type: 'order_submitted', timestampNs: 1, order: limitOrder(1, 'X', 'Sell', '100', '2') });
    bt.pushEvent({ type: 'order_submitted', timestampNs: 2, order: marketOrder(2, 'X', 'Buy', '5') });
    const r = bt.run();
    expect(r.fills).toBe(1);
    expect(r.cash.amountString()).toBe('500');
    expect(r.positions).toEqual({ X: '0' });
  });

  it('refuses malformed events at push time without queuing them', () => {
    const bt = new BacktestEngine('1');
    expect(() => bt.pushEvent({ type: 'order_cancelled', timestampNs: 1.5, orderId: 1 })).toThrow('[Matching] event 0: invalid timestampNs: 1.5');
    expect(() => bt.pushEvent({ type: 'order_modified', timestampNs: 1, orderId: 1 })).toThrow('order_modified needs newPrice or newQuantity');
    expect(() => bt.pushEvent({ type: 'fill', timestampNs: 1, price: '-1', quantity: '1', buyerOrderId: 1, sellerOrderId: 2 })).toThrow('invalid event 0: fill price: -1');
    expect(() => bt.pushEvent({ type: 'nope', timestampNs: 1 } as never)).toThrow('unknown event type: nope');
    expect(() => new BacktestEngine('-5')).toThrow('[Matching] invalid initial cash: -5');
    expect(bt.run().eventsProcessed).toBe(0);
  });
});
