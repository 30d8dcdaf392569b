import { describe, expect, it } from 'vitest';
import type { BacktestError } from './errors.js';
import { ImpactedMatchingEngineBuilder } from './impact.js';
import { limitOrder, marketOrder } from './orders.js';

describe('seed example 2: impact-aware builder chain', () => {
  it('builds a linear engine, rests a buy on an empty book, and reports zero permanent offset', () => {
    const ie = new ImpactedMatchingEngineBuilder().modelType('linear').coefficient(0.1).depthLevels(5).build();
    const r = ie.submit(limitOrder(3, 'BTC-USDT', 'Buy', '100.0', '1.0'));
    expect(r.fills).toEqual([]);
    expect(ie.permanentOffset()).toBe('0.00');
  });
});

describe('ImpactedMatchingEngine', () => {
  const seeded = (type: 'linear' | 'power_law') => {
    const e = new ImpactedMatchingEngineBuilder().modelType(type).coefficient(0.01).depthLevels(2).tickSize('0.01').lotSize('1').build();
    e.submit(limitOrder(1, 'X', 'Sell', '100.00', '10'));
    e.submit(limitOrder(2, 'X', 'Sell', '100.01', '10'));
    e.submit(limitOrder(3, 'X', 'Sell', '105.00', '1000'));
    return e;
  };

  it('linear: prices fills with temporary impact and accumulates a permanent offset', () => {
    const e = seeded('linear');
    // depth over 2 levels = 20, quantity 5 -> impact 0.01 x 0.25 = 0.0025 of 100.00 = 25 ticks
    const r = e.submit(marketOrder(9, 'X', 'Buy', '5'));
    expect(r.fills.map((f) => [f.price, f.quantity])).toEqual([['100.25', '5']]);
    expect(e.permanentOffset()).toBe('0.13');
    // the next buy starts 13 ticks higher; depth 5 + 10 = 15, quantity 5 -> 0.00333 of 100.00 = 33.3 -> 34 ticks
    const r2 = e.submit(marketOrder(10, 'X', 'Buy', '5'));
    expect(r2.fills.map((f) => f.price)).toEqual(['100.47']);
    expect(e.permanentOffset()).toBe('0.30');
    const s = e.submit(marketOrder(11, 'X', 'Sell', '1'));
    expect(s.fills).toEqual([]);
    expect(e.permanentOffsetTicks()).toBe(30);
  });

  it('power_law: impact grows with the square root of participation', () => {
    const e = seeded('power_law');
    // sqrt(5 / 20) = 0.5 -> 0.005 of 100.00 = 50 ticks
    expect(e.submit(marketOrder(9, 'X', 'Buy', '5')).fills[0]?.price).toBe('100.50');
  });

  it('takes a user-supplied impact function and refuses a bad result', () => {
    const calls: [number, number][] = [];
    const e = new ImpactedMatchingEngineBuilder()
      .impactFunction((q, d) => {
        calls.push([q, d]);
        return q > 2 ? -1 : 0.0001;
      })
      .depthLevels(1)
      .permanentFraction(1)
      .lotSize('0.5')
      .build();
    e.submit(limitOrder(1, 'X', 'Sell', '50.00', '4'));
    expect(e.submit(marketOrder(2, 'X', 'Buy', '1')).fills[0]?.price).toBe('50.01');
    expect(calls).toEqual([[1, 4]]);
    expect(e.permanentOffset()).toBe('0.01');
    expect(() => e.submit(marketOrder(3, 'X', 'Buy', '3.5'))).toThrow('[Matching] impact model returned -1 for order 3');
    // refused before matching: the book is untouched
    expect(e.volumeAtPrice('Sell', '50.00')).toBe('3.0');
  });

  it('the builder refuses to build with a required part missing (BuilderIncomplete)', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as BacktestError;
      }
      throw new Error('expected a throw');
    };
    expect(err(() => new ImpactedMatchingEngineBuilder().coefficient(1).depthLevels(1).build()).args).toEqual(['BuilderIncomplete', '[BuilderIncomplete] modelType: call .modelType(...) before build()']);
    expect(err(() => new ImpactedMatchingEngineBuilder().modelType('linear').depthLevels(1).build()).code).toBe('BuilderIncomplete');
    expect(err(() => new ImpactedMatchingEngineBuilder().modelType('power_law').coefficient(1).build()).message).toMatch(/^\[BuilderIncomplete\] depthLevels/);
    expect(err(() => new ImpactedMatchingEngineBuilder().modelType('custom').depthLevels(1).build()).message).toMatch(/impactFunction/);
    expect(err(() => new ImpactedMatchingEngineBuilder().modelType('cubic' as 'linear')).message).toBe('[Matching] invalid impact model type: cubic (linear, power_law or custom)');
    expect(err(() => new ImpactedMatchingEngineBuilder().modelType('linear').coefficient(1).depthLevels(0).build()).message).toMatch(/invalid depth levels: 0/);
  });
});
