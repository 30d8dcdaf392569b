import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultiAssetMatchingEngine } from './multi-asset.js';
import { limitOrder, marketOrder } from './orders.js';

function engine(): MultiAssetMatchingEngine {
  const m = new MultiAssetMatchingEngine();
  m.registerAsset('BTC-USDT', { tickSize: '0.01', lotSize: '0.001' });
  m.registerAsset('ETH-USDT', { tickSize: '0.01', lotSize: '0.001' });
  m.registerAsset('ETH-BTC', { tickSize: '0.00001', lotSize: '0.001' });
  return m;
}

describe('MultiAssetMatchingEngine routing', () => {
  it('routes orders to their symbol and refuses unregistered assets with MatchingL3', () => {
    const m = engine();
    m.submit(limitOrder(1, 'BTC-USDT', 'Sell', '60000', '1'));
    m.submit(limitOrder(2, 'ETH-USDT', 'Sell', '3000', '1'));
    const r = m.submit(limitOrder(3, 'BTC-USDT', 'Buy', '60000', '0.5'));
    expect(r.fills.map((f) => f.makerOrderId)).toEqual([1]);
    expect(m.engine('ETH-USDT').bestAsk()).toBe('3000.00');
    expect(() => m.submit(limitOrder(4, 'DOGE-USDT', 'Buy', '1', '1'))).toThrow('[MatchingL3] asset not registered: DOGE-USDT');
    expect(() => m.registerAsset('BTC-USDT')).toThrow('[MatchingL3] asset already registered: BTC-USDT');
    expect(() => m.submit(limitOrder(2, 'BTC-USDT', 'Buy', '1', '1'))).toThrow('[Matching] duplicate order id: 2');
    expect(m.cancel(1)).toBe('0.500');
    expect(() => m.cancel(1)).toThrow('[Matching] order not found: 1');
    expect(m.modify(2, { quantity: '0.5' }).remainingQuantity).toBe('0.500');
    expect(m.assets()).toEqual(['BTC-USDT', 'ETH-USDT', 'ETH-BTC']);
  });
});

describe('dark pool', () => {
  it('matches at the lit midpoint, shows nothing in the lit book, and respects minimum quantities', () => {
    const m = engine();
    expect(m.submitDark({ id: 10, symbol: 'BTC-USDT', side: 'Buy', quantity: '2' }).fills).toEqual([]);
    // no lit quote yet: nothing can trade; the dark order is invisible to the lit book
    expect(m.submitDark({ id: 11, symbol: 'BTC-USDT', side: 'Sell', quantity: '1' }).fills).toEqual([]);
    expect(m.engine('BTC-USDT').depth()).toEqual({ bids: [], asks: [] });
    m.submit(limitOrder(1, 'BTC-USDT', 'Buy', '100.00', '1'));
    m.submit(limitOrder(2, 'BTC-USDT', 'Sell', '100.03', '1'));
    expect(m.midpoint('BTC-USDT')).toBe('100.015');
    const swept = m.matchDark('BTC-USDT');
    expect(swept.map((f) => [f.takerOrderId, f.makerOrderId, f.price, f.quantity])).toEqual([[10, 11, '100.015', '1.000']]);
    const small = m.submitDark({ id: 12, symbol: 'BTC-USDT', side: 'Sell', quantity: '0.5', minQuantity: '0.5' });
    expect(small.fills.map((f) => [f.makerOrderId, f.quantity, f.takerSide])).toEqual([[10, '0.500', 'SELL']]);
    const tooSmall = m.submitDark({ id: 13, symbol: 'BTC-USDT', side: 'Sell', quantity: '2', minQuantity: '1' });
    expect(tooSmall.fills).toEqual([]);
    expect(m.cancel(13)).toBe('2.000');
    expect(m.engine('BTC-USDT').stats().bidQuantity).toBe('1.000');
    expect(() => m.submitDark({ id: 14, symbol: 'BTC-USDT', side: 'Buy', quantity: '1', minQuantity: '2' })).toThrow('minimum quantity above quantity');
  });
});

describe('batch auctions', () => {
  it('uncrosses at the price maximizing volume, then minimum imbalance', () => {
    const m = engine();
    m.submitAuction(limitOrder(1, 'ETH-USDT', 'Buy', '101', '3'));
    m.submitAuction(limitOrder(2, 'ETH-USDT', 'Buy', '100', '2'));
    m.submitAuction(limitOrder(3, 'ETH-USDT', 'Sell', '99', '2'));
    m.submitAuction(limitOrder(4, 'ETH-USDT', 'Sell', '100', '2'));
    m.submitAuction(limitOrder(5, 'ETH-USDT', 'Sell', '102', '5'));
    // at 99: demand 5 supply 2 -> 2; at 100: demand 5 supply 4 -> 4; at 101: demand 3 supply 4 -> 3
    const r = m.runAuction('ETH-USDT');
    expect([r.clearingPrice, r.matchedQuantity, r.imbalance, r.imbalanceSide]).toEqual(['100.00', '4.000', '1.000', 'Buy']);
    expect(r.fills.map((f) => [f.takerOrderId, f.makerOrderId, f.quantity, f.price])).toEqual([
      [3, 1, '2.000', '100.00'],
      [4, 1, '1.000', '100.00'],
      [4, 2, '1.000', '100.00'],
    ]);
    expect(r.carriedOver).toBe(2);
    // nothing new crosses: order 2's remainder at 100 and the sell at 102 carry over
    const again = m.runAuction('ETH-USDT');
    expect([again.clearingPrice, again.fills.length, again.carriedOver]).toEqual([undefined, 0, 2]);
    expect(m.engine('ETH-USDT').depth().bids).toEqual([]);
  });

  it('breaks a volume and imbalance tie by the reference price, then by the lower price; IOC and market orders expire', () => {
    const setup = () => {
      const m = engine();
      m.submitAuction(limitOrder(1, 'BTC-USDT', 'Buy', '105', '1', 'IOC'));
      m.submitAuction(limitOrder(2, 'BTC-USDT', 'Sell', '95', '1'));
      return m;
    };
    // 95 and 105 both execute 1 with imbalance 0
    expect(setup().runAuction('BTC-USDT', '104').clearingPrice).toBe('105.00');
    expect(setup().runAuction('BTC-USDT', '96').clearingPrice).toBe('95.00');
    expect(setup().runAuction('BTC-USDT').clearingPrice).toBe('95.00');
    const m = engine();
    m.submitAuction(marketOrder(1, 'BTC-USDT', 'Buy', '2'));
    m.submitAuction(limitOrder(2, 'BTC-USDT', 'Sell', '95', '1'));
    const r = m.runAuction('BTC-USDT');
    expect([r.clearingPrice, r.matchedQuantity, r.carriedOver]).toEqual(['95.00', '1.000', 0]);
    expect(() => m.submitAuction(limitOrder(3, 'BTC-USDT', 'Buy', '1', '1', 'FOK'))).toThrow('[MatchingL3] auction order 3: FOK is not supported');
  });
});

describe('cross-asset arbitrage', () => {
  it('detects a cross rate out of line with its legs, in both directions', () => {
    const m = engine();
    m.submit(limitOrder(1, 'ETH-USDT', 'Buy', '3000', '1'));
    m.submit(limitOrder(2, 'ETH-USDT', 'Sell', '3001', '1'));
    m.submit(limitOrder(3, 'BTC-USDT', 'Buy', '59999', '1'));
    m.submit(limitOrder(4, 'BTC-USDT', 'Sell', '60000', '1'));
    m.registerCrossPair({ cross: 'ETH-BTC', numerator: 'ETH-USDT', denominator: 'BTC-USDT' });
    // implied bid 3000/60000 = 0.05; the cross ask 0.04990 is cheap
    m.submit(limitOrder(5, 'ETH-BTC', 'Sell', '0.04990', '1'));
    m.submit(limitOrder(6, 'ETH-BTC', 'Buy', '0.04900', '1'));
    const opps = m.detectArbitrage(1);
    expect(opps.length).toBe(1);
    expect(opps[0]).toMatchObject({ direction: 'buy_cross', crossPrice: '0.04990', impliedPrice: 0.05 });
    expect(opps[0]?.edgeBps).toBeCloseTo(20.04, 2);
    expect(m.detectArbitrage(25)).toEqual([]);
    m.cancel(5);
    m.cancel(6);
    m.submit(limitOrder(7, 'ETH-BTC', 'Buy', '0.05100', '1'));
    expect(m.detectArbitrage().map((o) => o.direction)).toEqual(['sell_cross']);
    expect(() => m.registerCrossPair({ cross: 'ETH-BTC', numerator: 'SOL-USDT', denominator: 'BTC-USDT' })).toThrow('[MatchingL3] invalid cross-asset params: asset not registered: SOL-USDT');
    expect(() => m.registerCrossPair({ cross: 'ETH-BTC', numerator: 'ETH-BTC', denominator: 'BTC-USDT' })).toThrow('[MatchingL3] invalid cross-asset params');
  });
});

describe('batch auction properties', () => {
  it('the clearing price maximizes executable volume, and fills conserve quantity at that one price', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 95, max: 105 }), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 40 }),
        (orders) => {
          const m = new MultiAssetMatchingEngine();
          m.registerAsset('X', { tickSize: '1', lotSize: '1' });
          orders.forEach(([buy, price, lots], i) => m.submitAuction(limitOrder(i + 1, 'X', buy ? 'Buy' : 'Sell', String(price), String(lots))));
          const r = m.runAuction('X');
          const volumeAt = (p: number) =>
            Math.min(
              orders.filter(([b, q]) => b && q >= p).reduce((a, o) => a + o[2], 0),
              orders.filter(([b, q]) => !b && q <= p).reduce((a, o) => a + o[2], 0),
            );
          const best = Math.max(...orders.map(([, p]) => volumeAt(p)));
          expect(Number(r.matchedQuantity)).toBe(best);
          if (best === 0) {
            expect(r.clearingPrice).toBeUndefined();
            return;
          }
          const clearing = Number(r.clearingPrice);
          expect(volumeAt(clearing)).toBe(best);
          expect(r.fills.every((f) => f.price === r.clearingPrice)).toBe(true);
          expect(r.fills.reduce((a, f) => a + Number(f.quantity), 0)).toBe(best);
          // every fill pairs a buy limit at or above the price with a sell limit at or below it
          for (const f of r.fills) {
            const [b, s] = f.takerSide === 'BUY' ? [f.takerOrderId, f.makerOrderId] : [f.makerOrderId, f.takerOrderId];
            const bo = orders[b - 1] as [boolean, number, number];
            const so = orders[s - 1] as [boolean, number, number];
            expect(bo[0] && !so[0] && bo[1] >= clearing && so[1] <= clearing).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
