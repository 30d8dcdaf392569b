import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBinanceCapture } from './binance.js';
import { ConstantLatency, PowerProbQueueModel, RiskAverseQueueModel, type SimOrder } from './hft-models.js';
import { runPassiveStrategy } from './passive-strategy.js';

const CAPTURE = fileURLToPath(new URL('../../data/binance_btcusdt_spot_depth_trades_20240808_2354-2400_utc.jsonl.gz', import.meta.url));

describe('queue models', () => {
  const order = (): SimOrder => ({ id: 1, side: 0, priceTicks: 100, lots: 5, queueAhead: 0, levelLots: 0 });

  it('risk-averse: only trades, or the level shrinking below our place, move us forward', () => {
    const q = new RiskAverseQueueModel();
    const o = order();
    q.newOrder(o, 10);
    q.depth(o, 10, 14);
    expect(o.queueAhead).toBe(10);
    q.depth(o, 14, 8);
    expect(o.queueAhead).toBe(8);
    q.trade(o, 6);
    expect(q.isFilled(o)).toBe(0);
    q.trade(o, 4);
    expect(q.isFilled(o)).toBe(2);
    expect(o.queueAhead).toBe(0);
  });

  it('power-probability: cancels are split between the front and the back of our place', () => {
    const q = new PowerProbQueueModel(1);
    const o = order();
    q.newOrder(o, 10);
    // ahead 10, behind 10 (the level grew after us): half of a 4-lot drop is taken as ahead of us
    q.depth(o, 20, 16);
    expect(o.queueAhead).toBe(8);
  });
});

describe('passive strategy on the Binance capture', () => {
  const cap = readBinanceCapture(CAPTURE);
  const run = (queue: 'risk-averse' | 'prob', latencyNs: number) =>
    runPassiveStrategy(cap, {
      queueModel: queue === 'prob' ? new PowerProbQueueModel(3) : new RiskAverseQueueModel(),
      latency: new ConstantLatency(latencyNs, latencyNs),
      quantity: '0.01',
      maxPosition: '0.05',
    });

  it('is deterministic, keeps the position in bounds, and its cash is the exact sum of its fills', () => {
    const a = run('risk-averse', 1_000_000);
    const b = run('risk-averse', 1_000_000);
    expect(b).toEqual(a);
    expect(a.fills.length).toBeGreaterThan(50);
    let pos = 0n;
    let cash = 0n;
    for (const f of a.fills) {
      // price has 2 digits, quantity 8: work in 1e-10 units
      const p = BigInt(f.price.replace('.', ''));
      const q = BigInt(f.quantity.replace('.', ''));
      pos += f.side === 'Buy' ? q : -q;
      cash += f.side === 'Buy' ? -p * q : p * q;
      expect(pos <= 5_000_000n && pos >= -5_000_000n).toBe(true);
    }
    expect(a.cash.raw).toBe(cash);
    expect(a.cash.precision).toBe(10);
    expect(BigInt(a.position.replace('.', ''))).toBe(pos);
  });

  it('the queue and latency models are pluggable and change the outcome', () => {
    const slow = run('risk-averse', 50_000_000);
    const fast = run('risk-averse', 1_000_000);
    const prob = run('prob', 1_000_000);
    expect(slow.fills.length).not.toBe(fast.fills.length);
    // slow orders arrive after the touch moved: some would cross and are refused as post-only
    expect(slow.postOnlyRejects).toBeGreaterThan(fast.postOnlyRejects);
    // the probabilistic queue also advances on cancels, so it is filled more often
    expect(prob.fills.length).toBeGreaterThan(fast.fills.length);
  });

  it('refuses a quantity off the lot grid', () => {
    expect(() => runPassiveStrategy(cap, { queueModel: new RiskAverseQueueModel(), latency: new ConstantLatency(0, 0), quantity: '0.000000001', maxPosition: '1' })).toThrow(
      '[Matching] invalid quantity: 0.000000001',
    );
  });
});
