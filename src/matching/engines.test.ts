import { describe, expect, it } from 'vitest';
import { AxonError } from '../core/errors.js';
import { L1MatchingEngine, L2MatchingEngine } from './engines.js';
import { BacktestError } from './errors.js';
import { limitOrder, marketOrder, type OrderSpec } from './orders.js';

describe('seed example 1: basic matching', () => {
  it('fills a crossing limit order with one fill', () => {
    const engine = new L1MatchingEngine();
    engine.submit(limitOrder(1, 'BTC-USDT', 'Sell', '100.0', '1.0'));
    const result = engine.submit(limitOrder(2, 'BTC-USDT', 'Buy', '100.0', '1.0'));
    expect([result.isFilled, result.fills.length]).toEqual([true, 1]);
    expect(result.isPartiallyFilled).toBe(false);
    expect(result.remainingQuantity).toBe('0.00000000');
    expect(result.fills[0]).toEqual({ fillId: 1, takerOrderId: 2, makerOrderId: 1, price: '100.00', quantity: '1.00000000', takerSide: 'BUY' });
  });
});

describe('BacktestError (seed error system)', () => {
  it('has code Matching and the message "[Matching] invalid side: xxx" in args', () => {
    const bad = { id: 1, symbol: 'BTC-USDT', side: 'xxx', type: 'Limit', price: '1', quantity: '1', tif: 'GTC' } as unknown as OrderSpec;
    let caught: unknown;
    try {
      new L1MatchingEngine().submit(bad);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BacktestError);
    expect(caught).toBeInstanceOf(AxonError);
    const e = caught as BacktestError;
    expect(e.args[0]).toBe('Matching');
    expect(e.args[1]).toBe('[Matching] invalid side: xxx');
    expect(() => limitOrder(1, 'X', 'xxx' as 'Buy', '1', '1')).toThrow('[Matching] invalid side: xxx');
  });

  it('refuses invalid prices, quantities, ids, off-tick prices and unknown cancels', () => {
    const e = new L1MatchingEngine();
    expect(() => limitOrder(1, 'X', 'Buy', '-1', '1')).toThrow('[Matching] invalid price: -1 (must be > 0)');
    expect(() => limitOrder(1, 'X', 'Buy', '1', '0')).toThrow('[Matching] invalid quantity: 0 (must be > 0)');
    expect(() => limitOrder(0, 'X', 'Buy', '1', '1')).toThrow('[Matching] invalid order id: 0');
    expect(() => limitOrder(1, 'X', 'Buy', 1.5, '1')).toThrow(/\[Matching\] invalid price: 1.5/);
    expect(() => e.submit(limitOrder(1, 'X', 'Buy', '1.005', '1'))).toThrow('[Matching] invalid price: 1.005 is not a multiple of 0.01');
    expect(() => e.cancel(7)).toThrow('[Matching] order not found: 7');
    e.submit(limitOrder(2, 'X', 'Buy', '1', '1'));
    expect(() => e.submit(limitOrder(2, 'X', 'Buy', '1', '1'))).toThrow('[Matching] duplicate order id: 2');
    expect(() => e.submit(limitOrder(3, 'Y', 'Buy', '1', '1'))).toThrow('[Matching] order 3 is for Y but this book trades X');
  });
});

describe('L1MatchingEngine', () => {
  const sells = (e: L1MatchingEngine) => {
    e.submit(limitOrder(1, 'S', 'Sell', '101', '2'));
    e.submit(limitOrder(2, 'S', 'Sell', '100', '1'));
    e.submit(limitOrder(3, 'S', 'Sell', '100', '1'));
  };

  it('matches best price first, then time, and rests a GTC remainder', () => {
    const e = new L1MatchingEngine({ tickSize: '1', lotSize: '1' });
    sells(e);
    const r = e.submit(limitOrder(4, 'S', 'Buy', '101', '5'));
    expect(r.fills.map((f) => [f.makerOrderId, f.price, f.quantity])).toEqual([['2', '100', '1'], ['3', '100', '1'], ['1', '101', '2']].map(([a, b, c]) => [Number(a), b, c]));
    expect(r.isPartiallyFilled).toBe(true);
    expect(r.remainingQuantity).toBe('1');
    expect(e.bestBid()).toBe('101');
    expect(e.bestAsk()).toBeUndefined();
  });

  it('IOC drops its remainder, FOK fills all or nothing, market orders are IOC', () => {
    const e = new L1MatchingEngine({ tickSize: '1', lotSize: '1' });
    sells(e);
    const fok = e.submit(limitOrder(5, 'S', 'Buy', '101', '5', 'FOK'));
    expect([fok.isFilled, fok.isPartiallyFilled, fok.fills.length, fok.remainingQuantity]).toEqual([false, false, 0, '5']);
    const ioc = e.submit(limitOrder(6, 'S', 'Buy', '100', '3', 'IOC'));
    expect([ioc.isPartiallyFilled, ioc.remainingQuantity, ioc.fills.length]).toEqual([true, '1', 2]);
    expect(e.bestBid()).toBeUndefined();
    const m = marketOrder(7, 'S', 'Buy', '5');
    expect(m.tif).toBe('IOC');
    const mr = e.submit(m);
    expect([mr.remainingQuantity, mr.fills.map((f) => f.price)]).toEqual(['3', ['101']]);
    expect(e.depth().asks).toEqual([]);
    const fok2 = e.submit(limitOrder(8, 'S', 'Sell', '90', '1', 'FOK'));
    expect(fok2.remainingQuantity).toBe('1');
    expect(e.fillCount).toBe(3);
    expect(e.volume).toBe('4');
  });

  it('cancel returns the remaining quantity and removes the order', () => {
    const e = new L1MatchingEngine({ tickSize: '0.5', lotSize: '0.001' });
    e.submit(limitOrder(1, 'S', 'Buy', '99.5', '1.25'));
    expect(e.depth(1)).toEqual({ bids: [{ price: '99.5', quantity: '1.250', orders: 1 }], asks: [] });
    expect(e.cancel(1)).toBe('1.250');
    expect(e.bestBid()).toBeUndefined();
    expect(() => e.submit(limitOrder(2, 'S', 'Buy', '99.7', '1'))).toThrow('not a multiple of 0.5');
  });
});

describe('L2MatchingEngine', () => {
  const book = () =>
    L2MatchingEngine.fromEntries(
      [
        { orderId: 1, side: 'Buy', price: '99', quantity: '3' },
        { orderId: 2, side: 'Buy', price: '99', quantity: '4' },
        { orderId: 3, side: 'Buy', price: '98', quantity: '5' },
        { orderId: 4, side: 'Sell', price: '101', quantity: '2' },
      ],
      { tickSize: '1', lotSize: '1' },
    );

  it('fromEntries / exportEntries round-trip in priority order', () => {
    const e = book();
    const entries = e.exportEntries();
    expect(entries.map((x) => x.orderId)).toEqual([1, 2, 3, 4]);
    expect(L2MatchingEngine.fromEntries(entries, { tickSize: '1', lotSize: '1' }).exportEntries()).toEqual(entries);
    expect(() => L2MatchingEngine.fromEntries([{ orderId: 1, side: 'Buy', price: '100', quantity: '1' }, { orderId: 2, side: 'Sell', price: '100', quantity: '1' }])).toThrow(
      '[Matching] entry 1 (order 2) at 100 crosses the book',
    );
  });

  it('a size decrease keeps queue priority; a price change or size increase loses it', () => {
    const e = book();
    expect(e.location(2)).toEqual({ side: 'Buy', price: '99', levelIndex: 0, queuePosition: 1, quantityAhead: '3', quantity: '4' });
    e.modify(1, { quantity: '1' });
    expect(e.location(1)?.queuePosition).toBe(0);
    expect(e.location(2)?.quantityAhead).toBe('1');
    e.modify(1, { quantity: '2' });
    expect(e.location(1)).toMatchObject({ queuePosition: 1, quantityAhead: '4' });
    e.modify(3, { price: '99' });
    expect(e.location(3)).toMatchObject({ levelIndex: 0, queuePosition: 2, quantityAhead: '6' });
    e.modify(3, { price: '98' });
    expect(e.location(3)).toMatchObject({ levelIndex: 1, queuePosition: 0 });
    expect(e.volumeAtPrice('Buy', '99')).toBe('6');
    const crossed = e.modify(3, { price: '101', quantity: '3' });
    expect(crossed.fills.map((f) => [f.makerOrderId, f.quantity, f.takerSide])).toEqual([[4, '2', 'BUY']]);
    expect(crossed.remainingQuantity).toBe('1');
    expect(e.location(3)).toMatchObject({ side: 'Buy', price: '101', levelIndex: 0 });
    expect(() => e.modify(42, { price: '1' })).toThrow('[Matching] order not found: 42');
    expect(() => e.modify(3, {})).toThrow('no new price or quantity');
  });

  it('stats count levels, orders, quantities, the touch and fills', () => {
    const e = book();
    e.submit(marketOrder(9, 'BTC', 'Sell', '2'));
    expect(e.stats()).toEqual({
      bidLevels: 2,
      askLevels: 1,
      bidOrders: 3,
      askOrders: 1,
      bidQuantity: '10',
      askQuantity: '2',
      bestBid: '99',
      bestAsk: '101',
      spread: '2',
      fills: 1,
      volume: '2',
    });
    expect(e.location(1)).toMatchObject({ quantity: '1', queuePosition: 0 });
  });
});
