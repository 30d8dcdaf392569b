import { describe, expect, it } from 'vitest';
import { TestClock } from '../core/index.js';
import {
  DefaultRiskEngine,
  RiskError,
  RiskReason,
  makeCircuitBreaker,
  makeOrder,
  makePortfolio,
  makeRiskConfig,
} from './index.js';

// The seed's "axon_quant.risk" section, example by example, with the same values.
describe('seed: axon_quant.risk', () => {
  const config = () =>
    makeRiskConfig({ maxOrderValue: 10_000.0, maxLeverage: 2.0, maxDailyLoss: 5_000.0, maxConcentration: 0.3 });
  const order = makeOrder({ id: 1, symbol: 'BTC-USDT', side: 'Buy', type: 'limit', price: '100.0', quantity: '1.0' });
  const portfolio = makePortfolio({ baseCurrency: 'USD', commissionRate: 0.001, cash: { USD: 100_000 } });

  it('pre-trade check allows the order', () => {
    const engine = new DefaultRiskEngine(config(), { clock: new TestClock(0n) });
    const result = engine.checkOrder(order, portfolio);
    expect(result.isAllow).toBe(true);
    expect(result.isReject).toBe(false);
  });

  it('cumulative daily PnL trips the circuit breaker; resetDaily keeps the VaR history', () => {
    const engine = new DefaultRiskEngine(config(), { clock: new TestClock(0n) });
    engine.checkPortfolio(portfolio);
    engine.updateDailyPnl(2_000);
    expect(engine.checkOrder(order, portfolio).isAllow).toBe(true);
    engine.updateDailyPnl(-7_500);
    const r = engine.checkOrder(order, portfolio);
    expect(r.isReject && r.reason?.kind === 'CircuitBreakerActive').toBe(true);
    engine.resetDaily();
    expect(engine.returns()).toEqual([-0.055]);
    expect(engine.checkOrder(order, portfolio).isAllow).toBe(true);
    engine.resetDaily();
    expect(engine.returns()).toEqual([-0.055, 0]);
  });

  it('RiskReason field access', () => {
    const reason = RiskReason.fromDict({ kind: 'OrderTooLarge', max: 10_000.0, actual: 20_000.0 });
    expect(reason.kind).toBe('OrderTooLarge');
    expect(reason.get('max')).toBe('10000');
    expect(reason.get('actual')).toBe('20000');
    expect(reason.toDict()).toEqual({ kind: 'OrderTooLarge', max: '10000', actual: '20000' });
    expect(RiskReason.fromDict(reason.toDict()).toDict()).toEqual(reason.toDict());
  });

  it('standalone CircuitBreaker', () => {
    const cb = makeCircuitBreaker({ dailyLossLimit: 10_000.0, cooldownSeconds: 3600, clock: new TestClock(0n) });
    cb.checkAndTrigger(-5_000.0);
    expect(cb.isActive).toBe(false);
    cb.checkAndTrigger(-15_000.0);
    expect(cb.isActive).toBe(true);
    cb.reset();
    expect(cb.isActive).toBe(false);
  });

  it('RiskError: e.args carries the code and the "[Code] text" message', () => {
    const engine = new DefaultRiskEngine(config(), { clock: new TestClock(0n) });
    const bad = makeOrder({ id: 2, symbol: 'BTC-USDT', side: 'Buy', type: 'limit', price: '100.0', quantity: '200' });
    try {
      engine.checkOrder(bad, portfolio).orThrow();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RiskError);
      const err = e as RiskError;
      expect(err.args[0]).toBe('OrderRejected');
      expect(err.args[1]).toMatch(/^\[OrderRejected\] order rejected: OrderTooLarge\(max=10000, actual=20000.0/);
    }
  });
});
