import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { priceFromFloat, Quantity } from '../../core/decimal.js';
import { Money } from '../../core/money.js';
import { Rng } from '../../core/rng.js';
import { makeBar } from '../../model/bar.js';
import { makeInstrument, usEquity } from '../../model/instrument.js';
import type { OrderRequest } from '../../model/order.js';
import { SimulatedVenueError } from './errors.js';
import {
  barPrices,
  BpsCommission,
  BpsSlippage,
  CombinedCommission,
  ConstantLatency,
  FixedCommission,
  JitterLatency,
  NextOpenMarketFill,
  NoCommission,
  NoSlippage,
  PerShareCommission,
  rawFromFloat,
  ShareOfBarVolume,
  stopTriggerPrice,
  ThisCloseMarketFill,
  ThroughLimitFill,
  TouchLimitFill,
  UnlimitedVolume,
  ZeroLatency,
} from './models.js';

const aapl = usEquity('AAPL');
const btc = makeInstrument({ id: 'BTCUSDT.BINANCE', assetClass: 'crypto', tickSize: '0.01', lotSize: '0.001', baseCurrency: 'BTC', quoteCurrency: 'USDT' });
const bar = (o: number, h: number, l: number, c: number, v = 1000) =>
  makeBar({ symbol: 'AAPL', timeframe: '1m', openTimeNs: 60_000_000_000n, open: o, high: h, low: l, close: c, volume: v });
// raw prices at precision 2
const P = (x: string) => BigInt(Math.round(Number(x) * 100));
const fills = (qty: string, notional: string, inst = aapl) => ({ filledQty: Quantity.of(qty), filledNotional: Money.of(notional, inst.quoteCurrency), instrument: inst });

describe('bar prices', () => {
  it('converts float OHLC to exact raw integers at the price precision', () => {
    expect(barPrices(bar(100.1, 100.3, 99.95, 100.2), 2)).toEqual({ open: 10010n, high: 10030n, low: 9995n, close: 10020n });
    expect(barPrices(bar(0.1, 0.3, 0.1, 0.3), 4)).toEqual({ open: 1000n, high: 3000n, low: 1000n, close: 3000n });
  });
});

describe('rawFromFloat', () => {
  const slow = (x: number, p: number): bigint => priceFromFloat(x, p).raw;
  // a value, or the error code: both paths must throw alike too (e.g. a double beyond the 30 supported digits)
  const outcome = (f: () => bigint): bigint | string => {
    try {
      return f();
    } catch (e) {
      return (e as { code: string }).code;
    }
  };

  it('equals priceFromFloat(x, p).raw for decimals on the grid, near it, and any double (property)', () => {
    // prices with at most p digits (the fast path), the same nudged by a few ulps or a fraction of a tick
    // (off the grid: the string path rounds half-even), and arbitrary doubles including huge and tiny ones
    const onGrid = fc.tuple(fc.integer({ min: 0, max: 18 }), fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n })).map(([p, k]) => ({ x: Number(k) / 10 ** p, p }));
    const nudged = fc
      .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -4, max: 4 }), fc.constantFrom(0, 0.5, 0.49999, 0.50001, 0.25))
      .map(([p, k, ulps, half]) => {
        let x = (k + half) / 10 ** p;
        for (let i = 0; i < Math.abs(ulps); i++) x = ulps > 0 ? nextUp(x) : -nextUp(-x);
        return { x, p };
      });
    const any = fc.tuple(fc.integer({ min: 0, max: 16 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 })).map(([p, x]) => ({ x, p }));
    fc.assert(
      fc.property(fc.oneof(onGrid, nudged, any), ({ x, p }) => {
        expect(outcome(() => rawFromFloat(x, p))).toBe(outcome(() => slow(x, p)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees at the edges: zero, negative zero, the fast-path limit, and refuses what priceFromFloat refuses', () => {
    for (const x of [0, -0, 2 ** 46 / 100, 2 ** 46 / 100 + 0.01, 70368744177.63, 70368744177.65, 1e15, 0.005, 1.005, 2.675, 1e-7]) {
      for (const p of [0, 2, 4, 8]) expect(rawFromFloat(x, p), `${x} at ${p}`).toBe(slow(x, p));
    }
    for (const x of [5e-324, -5e-324, 1e-31]) {
      expect(outcome(() => rawFromFloat(x, 2))).toBe(outcome(() => slow(x, 2)));
    }
    for (const x of [Number.NaN, Infinity, -Infinity]) expect(() => rawFromFloat(x, 2)).toThrow(expect.objectContaining({ code: 'InvalidDecimal' }));
  });
});

/** The next double above x. */
function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

describe('market fill models', () => {
  const b = bar(100, 101, 99, 100.5);
  it('next-open: eligible by the bar open, fills at the open', () => {
    const m = new NextOpenMarketFill();
    expect(m.eligibleAt(b)).toBe(b.openTimeNs);
    expect(m.price(barPrices(b, 2))).toBe(10000n);
    expect(m.atOpen).toBe(true);
  });
  it('this-close: eligible by the bar close, fills at the close', () => {
    const m = new ThisCloseMarketFill();
    expect(m.eligibleAt(b)).toBe(b.closeTimeNs);
    expect(m.price(barPrices(b, 2))).toBe(10050n);
    expect(m.atOpen).toBe(false);
  });
});

describe('limit fill models', () => {
  const through = new ThroughLimitFill();
  const touch = new TouchLimitFill();
  it('a bar that only touches the limit fills under touch, not under through', () => {
    const p = barPrices(bar(100, 101, 99, 100), 2);
    expect(through.fillPrice('Buy', P('99'), p)).toBeUndefined();
    expect(touch.fillPrice('Buy', P('99'), p)).toBe(P('99'));
    expect(through.fillPrice('Sell', P('101'), p)).toBeUndefined();
    expect(touch.fillPrice('Sell', P('101'), p)).toBe(P('101'));
  });
  it('a bar that trades through fills at the limit under both', () => {
    const p = barPrices(bar(100, 101, 98.5, 100), 2);
    expect(through.fillPrice('Buy', P('99'), p)).toBe(P('99'));
    expect(touch.fillPrice('Buy', P('99'), p)).toBe(P('99'));
    expect(through.fillPrice('Sell', P('100.5'), p)).toBe(P('100.5'));
  });
  it('a bar that opens beyond the limit fills at the open (gap), the better price', () => {
    const down = barPrices(bar(97, 98, 96, 97.5), 2);
    expect(through.fillPrice('Buy', P('99'), down)).toBe(P('97'));
    const up = barPrices(bar(103, 104, 102.5, 103), 2);
    expect(through.fillPrice('Sell', P('101'), up)).toBe(P('103'));
  });
  it('never fills a buy above its limit or a sell below it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 12_000 }), (low, a, b, up, limit) => {
        const lo = BigInt(low);
        const open = lo + BigInt(a);
        const close = lo + BigInt(b);
        const high = (open > close ? open : close) + BigInt(up);
        const p = { open, high, low: lo, close };
        const L = BigInt(limit);
        for (const m of [through, touch]) {
          const buy = m.fillPrice('Buy', L, p);
          if (buy !== undefined) expect(buy <= L && buy >= lo && buy <= high).toBe(true);
          const sell = m.fillPrice('Sell', L, p);
          if (sell !== undefined) expect(sell >= L && sell >= lo && sell <= high).toBe(true);
        }
        expect(through.fillPrice('Buy', L, p) === undefined).toBe(!(lo < L));
        expect(touch.fillPrice('Sell', L, p) === undefined).toBe(!(high >= L));
      }),
    );
  });
});

describe('stop trigger', () => {
  const p = barPrices(bar(100, 102, 98, 101), 2);
  it('triggers when the range reaches the stop, at the stop', () => {
    expect(stopTriggerPrice('Buy', P('101.5'), p)).toBe(P('101.5'));
    expect(stopTriggerPrice('Buy', P('102'), p)).toBe(P('102'));
    expect(stopTriggerPrice('Buy', P('102.01'), p)).toBeUndefined();
    expect(stopTriggerPrice('Sell', P('98.5'), p)).toBe(P('98.5'));
    expect(stopTriggerPrice('Sell', P('97.99'), p)).toBeUndefined();
  });
  it('fills at the open when the bar gaps through the stop (worse for the trader)', () => {
    expect(stopTriggerPrice('Buy', P('99'), p)).toBe(P('100'));
    expect(stopTriggerPrice('Sell', P('101'), p)).toBe(P('100'));
  });
});

describe('volume models', () => {
  it('unlimited has no cap', () => {
    expect(new UnlimitedVolume().capacity()).toBeUndefined();
  });
  it('share of bar volume floors to the lot size', () => {
    const m = new ShareOfBarVolume('0.1');
    expect(m.capacity(bar(1, 1, 1, 1, 257), aapl)).toBe(25n);
    expect(m.capacity(bar(1, 1, 1, 1, 9), aapl)).toBe(0n);
    // btc: size precision 3, lot 0.001; 0.25 * 1.2345 = 0.308625 -> 0.308
    expect(new ShareOfBarVolume('0.25').capacity(bar(1, 1, 1, 1, 1.2345), btc)).toBe(308n);
  });
  it('refuses a share outside (0, 1]', () => {
    expect(() => new ShareOfBarVolume('0')).toThrow(SimulatedVenueError);
    expect(() => new ShareOfBarVolume('1.5')).toThrow(/\[InvalidConfig\]/);
  });
});

describe('slippage models', () => {
  it('none leaves the price', () => {
    expect(new NoSlippage().apply('Buy', 12345n)).toBe(12345n);
  });
  it('bps moves against the trader and rounds to the tick in the trader disfavour', () => {
    const s = new BpsSlippage('10');
    // 33.33 * 1.001 = 33.36333 -> 33.37 for a buy; 33.33 * 0.999 = 33.29667 -> 33.29 for a sell
    expect(s.apply('Buy', P('33.33'), aapl)).toBe(P('33.37'));
    expect(s.apply('Sell', P('33.33'), aapl)).toBe(P('33.29'));
    // exact multiples stay exact: 100 * 1.0005 = 100.05
    expect(new BpsSlippage('5').apply('Buy', P('100'), aapl)).toBe(P('100.05'));
    expect(new BpsSlippage('5').apply('Sell', P('100'), aapl)).toBe(P('99.95'));
    // fractional bps
    expect(new BpsSlippage('0.5').apply('Buy', P('100'), aapl)).toBe(P('100.01'));
    expect(new BpsSlippage('0').apply('Sell', P('100'), aapl)).toBe(P('100'));
  });
  it('slipped prices are on the tick and never better than the unslipped price (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 500 }), (raw, bps) => {
        const s = new BpsSlippage(bps);
        const buy = s.apply('Buy', BigInt(raw), aapl);
        const sell = s.apply('Sell', BigInt(raw), aapl);
        expect(buy >= BigInt(raw) && sell <= BigInt(raw)).toBe(true);
      }),
    );
  });
  it('refuses negative bps', () => {
    expect(() => new BpsSlippage('-1')).toThrow(/\[InvalidConfig\]/);
  });
});

describe('commission models', () => {
  it('none is zero in the quote currency', () => {
    expect(new NoCommission().orderTotal(fills('10', '1000')).toString()).toBe('0 USD');
  });
  it('per share with a minimum per order', () => {
    const m = new PerShareCommission('0.005', '1');
    expect(m.orderTotal(fills('0', '0')).isZero()).toBe(true);
    expect(m.orderTotal(fills('100', '10000')).toString()).toBe('1 USD');
    expect(m.orderTotal(fills('1000', '100000')).toString()).toBe('5.000 USD');
    expect(m.orderTotal(fills('201', '100000')).toString()).toBe('1.005 USD');
  });
  it('bps of notional, rounded up to the precision', () => {
    const m = new BpsCommission('2.5');
    // 12345.67 * 0.00025 = 3.0864175 -> 3.09
    expect(m.orderTotal(fills('1', '12345.67')).toString()).toBe('3.09 USD');
    expect(new BpsCommission('10', 8).orderTotal(fills('0.5', '30000.5', btc)).toString()).toBe('30.00050000 USDT');
  });
  it('fixed per order is charged once', () => {
    const m = new FixedCommission('4.95');
    expect(m.orderTotal(fills('0', '0')).isZero()).toBe(true);
    expect(m.orderTotal(fills('1', '10')).toString()).toBe('4.95 USD');
    expect(m.orderTotal(fills('500', '5000')).toString()).toBe('4.95 USD');
  });
  it('combined sums its parts', () => {
    const m = new CombinedCommission([new PerShareCommission('0.01'), new FixedCommission('1')]);
    expect(m.orderTotal(fills('150', '1500')).eq(Money.of('2.5', 'USD'))).toBe(true);
    expect(m.name).toBe('combined(per-share+fixed)');
  });
  it('refuses negative amounts', () => {
    expect(() => new PerShareCommission('-0.01')).toThrow(/\[InvalidConfig\]/);
    expect(() => new BpsCommission('-1')).toThrow(/\[InvalidConfig\]/);
    expect(() => new FixedCommission('-1')).toThrow(/\[InvalidConfig\]/);
  });
});

describe('latency models', () => {
  const req = {} as OrderRequest;
  it('zero and constant', () => {
    expect(new ZeroLatency().entryNs(req)).toBe(0n);
    expect(new ConstantLatency(5_000_000n).entryNs(req)).toBe(5_000_000n);
    expect(() => new ConstantLatency(-1n)).toThrow(/\[InvalidConfig\]/);
  });
  it('jitter is bounded and deterministic per seed', () => {
    const a = new JitterLatency(1000n, 500, new Rng(7));
    const b = new JitterLatency(1000n, 500, new Rng(7));
    const xs = Array.from({ length: 50 }, () => a.entryNs(req));
    const ys = Array.from({ length: 50 }, () => b.entryNs(req));
    expect(xs).toEqual(ys);
    for (const x of xs) expect(x >= 1000n && x <= 1500n).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(1);
  });
});
