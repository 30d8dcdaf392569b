import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NS, TestClock } from '../core/index.js';
import { Portfolio, limitOrder, marketOrder } from '../oms/index.js';
import {
  CircuitBreaker,
  DefaultRiskEngine,
  RiskError,
  RiskReason,
  historicalVar95,
  makeOrder,
  makePortfolio,
  makePortfolioWithPositions,
  makeRiskConfig,
  type RiskPortfolioView,
} from './index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RiskError) return e.code;
    throw e;
  }
  return undefined;
}

const buy = (qty: string, price: string, symbol = 'BTC-USD') => makeOrder({ id: 1, symbol, side: 'Buy', type: 'limit', price, quantity: qty });
const sell = (qty: string, price: string, symbol = 'BTC-USD') => makeOrder({ id: 1, symbol, side: 'Sell', type: 'limit', price, quantity: qty });

describe('makeRiskConfig', () => {
  it('refuses negative, NaN, non-numeric and unknown keys, listing every problem', () => {
    try {
      makeRiskConfig({ maxOrderValue: -1, maxLeverage: Number.NaN, maxDrawdown: '1.5', max_daily_loss: 5, bogus: 1, maxConcentration: 'x' } as never);
      expect.unreachable();
    } catch (e) {
      const err = e as RiskError;
      expect(err.code).toBe('ConfigInvalid');
      expect(err.detail).toContain('maxOrderValue cannot be negative, got -1');
      expect(err.detail).toContain('maxLeverage must be a finite number, got NaN');
      expect(err.detail).toContain('maxDrawdown is a fraction in [0, 1], got 1.5');
      expect(err.detail).toContain('unknown key "max_daily_loss" (did you mean maxDailyLoss?)');
      expect(err.detail).toContain('unknown key "bogus"');
      expect(err.detail).toContain('maxConcentration');
    }
    const c = makeRiskConfig({ maxConcentration: 0.3, circuitBreakerCooldown: 60 });
    expect(c.maxConcentration?.toString()).toBe('0.3');
    expect(c.maxOrderValue).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe('DefaultRiskEngine.checkOrder', () => {
  const pf = makePortfolioWithPositions({
    baseCurrency: 'USD',
    accountType: 'margin',
    cash: { USD: '10000' },
    positions: { 'BTC-USD': { quantity: '0.1', avgPrice: '50000' }, 'ETH-USD': { quantity: '-1', avgPrice: '3000', markPrice: '2000' } },
  });
  // equity = 10000 + 5000 - 2000 = 13000; gross = 7000

  it('rejects each limit with its reason, limit and actual value', () => {
    const clock = new TestClock(0n);
    const reasonOf = (cfg: Parameters<typeof makeRiskConfig>[0], o = buy('0.1', '50000'), p: RiskPortfolioView = pf) =>
      new DefaultRiskEngine(makeRiskConfig(cfg), { clock }).checkOrder(o, p).reason?.toDict();
    expect(reasonOf({ maxOrderValue: '4999.99' })).toEqual({ kind: 'OrderTooLarge', max: '4999.99', actual: '5000.0', symbol: 'BTC-USD' });
    expect(reasonOf({ maxOrderValue: '5000' })).toBeUndefined();
    expect(reasonOf({ maxPositionPerInstrument: '9999' })).toEqual({ kind: 'PositionLimitExceeded', max: '9999', actual: '10000.0', symbol: 'BTC-USD' });
    expect(reasonOf({ maxTotalExposure: '11999' })).toEqual({ kind: 'PositionLimitExceeded', max: '11999', actual: '12000.0', scope: 'total' });
    expect(reasonOf({ maxLeverage: '0.9' })).toEqual({ kind: 'MaxLeverageExceeded', max: '0.9', actual: '0.923077' });
    expect(reasonOf({ maxLeverage: '1' })).toBeUndefined();
    expect(reasonOf({ maxConcentration: '0.5' })).toEqual({ kind: 'ConcentrationTooHigh', max: '0.5', actual: '0.769231', symbol: 'BTC-USD' });
    const cashPf = makePortfolio({ baseCurrency: 'USD', commissionRate: '0.001', cash: { USD: '5004' } });
    expect(reasonOf({}, buy('0.1', '50000'), cashPf)).toEqual({ kind: 'InsufficientMargin', max: '5004', actual: '5005.0000', symbol: 'BTC-USD' });
    expect(reasonOf({}, sell('0.1', '50000'), cashPf)?.kind).toBe('InsufficientMargin');
  });

  it('lets risk-reducing orders through exposure limits but not through the breaker', () => {
    const clock = new TestClock(0n);
    const e = new DefaultRiskEngine(makeRiskConfig({ maxLeverage: '0.1', maxDailyLoss: 100, circuitBreakerCooldown: 60 }), { clock });
    expect(e.checkOrder(buy('0.1', '50000'), pf).isReject).toBe(true);
    expect(e.checkOrder(sell('0.05', '50000'), pf).isAllow).toBe(true);
    expect(e.checkOrder(buy('0.5', '2000', 'ETH-USD'), pf).isAllow).toBe(true);
    e.updateDailyPnl(-101);
    expect(e.checkOrder(sell('0.05', '50000'), pf).reason?.kind).toBe('CircuitBreakerActive');
    clock.advance(60n * NS.s);
    expect(e.circuitBreakerActive).toBe(false);
    expect(e.checkOrder(buy('0.001', '50000'), pf).reason?.kind).toBe('DailyPnLLimit');
    expect(e.checkOrder(sell('0.05', '50000'), pf).isAllow).toBe(true);
    expect(() => e.checkOrder(sell('0.05', '50000'), pf).orThrow()).not.toThrow();
    e.updateDailyPnl(-1);
    expect(codeOf(() => e.checkOrder(buy('0.001', '50000'), pf).orThrow())).toBe('CircuitBreakerActive');
  });

  it('tracks drawdown from the equity peak', () => {
    const p = new Portfolio({ accountType: 'margin', clock: new TestClock(0n) });
    p.deposit('USD', 1000);
    const e = new DefaultRiskEngine(makeRiskConfig({ maxDrawdown: '0.1' }), { clock: new TestClock(0n) });
    expect(codeOf(() => e.checkPortfolio(p))).toBe('ConfigInvalid');
    expect(e.checkPortfolio(p, 'USD').isAllow).toBe(true);
    p.applyFill({ symbol: 'X-USD', side: 'Buy', price: 100, quantity: 5 });
    p.setMark('X-USD', 79);
    expect(e.checkOrder(limitOrder('X-USD', 'Buy', 1, 79), p).reason?.toDict()).toEqual({ kind: 'MaxDrawdownExceeded', max: '0.1', actual: '0.105000' });
    expect(e.checkPortfolio(p, 'USD').reason?.kind).toBe('MaxDrawdownExceeded');
    expect(e.checkOrder(limitOrder('X-USD', 'Sell', 1, 79), p).isAllow).toBe(true);
    const m = e.metrics();
    expect(m.nav).toBe('895');
    expect(m.peakNav).toBe('1000');
    expect(m.drawdown).toBeCloseTo(0.105, 12);
    expect(m.leverage).toBeCloseTo(395 / 895, 12);
  });

  it('accepts the OMS Order and Portfolio, warns on a market order without a mark', () => {
    const p = new Portfolio({ clock: new TestClock(0n) });
    p.deposit('USDT', 1000);
    const e = new DefaultRiskEngine(makeRiskConfig({ maxOrderValue: 500 }), { clock: new TestClock(0n) });
    expect(e.checkOrder(limitOrder('BTC-USDT', 'Buy', '0.01', 50_000), p).isAllow).toBe(true);
    expect(e.checkOrder(limitOrder('BTC-USDT', 'Buy', '0.02', 50_000), p).reason?.kind).toBe('OrderTooLarge');
    const w = e.checkOrder(marketOrder('BTC-USDT', 'Buy', '0.01'), p);
    expect(w.isWarn && w.message?.includes('no price')).toBe(true);
    p.setMark('BTC-USDT', 60_000);
    expect(e.checkOrder(marketOrder('BTC-USDT', 'Buy', '0.01'), p).reason?.get('actual')).toBe('600.00');
  });

  it('property: the exact decision matches a brute-force recomputation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100000 }),
        fc.integer({ min: 1, max: 1000000 }),
        fc.integer({ min: 0, max: 300 }),
        (qty, px, lev) => {
          const e = new DefaultRiskEngine(makeRiskConfig({ maxLeverage: (lev / 100).toString() }), { clock: new TestClock(0n) });
          const q = (qty / 1000).toFixed(3);
          const p = (px / 100).toFixed(2);
          const r = e.checkOrder(buy(q, p), pf);
          // gross after = 7000 - 5000 + (0.1 + q) * p, all in integer cents x 1000
          const grossAfter = 2000n * 100000n + BigInt(100 + qty) * BigInt(px);
          expect(r.isReject).toBe(grossAfter * 100n > BigInt(lev) * 13000n * 100000n);
        },
      ),
    );
  });
});

describe('VaR, metrics, errors', () => {
  it('historical VaR(95) is the lower empirical 5% quantile', () => {
    expect(historicalVar95([])).toBeUndefined();
    const rs = Array.from({ length: 100 }, (_, i) => (i - 10) / 1000);
    expect(historicalVar95(rs)).toBe(0.006);
    expect(historicalVar95([0.01, 0.02])).toBe(0);
    const e = new DefaultRiskEngine(makeRiskConfig({}), { varWindow: 20 });
    for (let i = 0; i < 40; i++) e.recordReturn(i < 20 ? -0.5 : -i / 1000);
    expect(e.returns()).toHaveLength(20);
    const pf = makePortfolio({ baseCurrency: 'USD', cash: { USD: 1000 } });
    const m = e.metrics(pf);
    expect(m.var95).toBe(0.039);
    expect(m.var95Amount).toBe('39.00');
    expect(m.nav).toBe('1000');
  });

  it('raises every RiskError code it uses', () => {
    expect(codeOf(() => makeRiskConfig({ maxLeverage: -2 }))).toBe('ConfigInvalid');
    expect(codeOf(() => new CircuitBreaker({ dailyLossLimit: -1 }))).toBe('ConfigInvalid');
    expect(codeOf(() => RiskReason.fromDict({ kind: 'Nope' }))).toBe('ConfigInvalid');
    expect(codeOf(() => new DefaultRiskEngine(makeRiskConfig({}), { varWindow: 0 }))).toBe('ConfigInvalid');
    expect(codeOf(() => new DefaultRiskEngine(makeRiskConfig({})).metrics())).toBe('ConfigInvalid');
    expect(codeOf(() => makeOrder({ id: 9, symbol: 'X', side: 'Hold', type: 'limit', quantity: 0 }))).toBe('OrderRejected');
    expect(codeOf(() => makePortfolio({ baseCurrency: 'USD', cash: { USD: 0.5 as never } }))).toBe('ConfigInvalid');
    expect(new RiskError('Overflow', 'x').args).toEqual(['Overflow', '[Overflow] x']);
  });

  it('breaker cooldown runs on the injected clock', () => {
    const clock = new TestClock(0n);
    const cb = new CircuitBreaker({ dailyLossLimit: '100', cooldownSeconds: '1.5', clock });
    expect(cb.checkAndTrigger('-100')).toBe(false);
    expect(cb.checkAndTrigger('-100.01')).toBe(true);
    expect(cb.activeUntil).toBe(1_500_000_000n);
    clock.advanceTo(1_499_999_999n);
    expect(cb.isActive).toBe(true);
    clock.advanceTo(1_500_000_000n);
    expect(cb.isActive).toBe(false);
  });
});
