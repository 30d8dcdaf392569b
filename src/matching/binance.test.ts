import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBinanceCapture, readBinanceCapture, replayBinance } from './binance.js';
import { BUY, SELL } from './order-book.js';

const CAPTURE = fileURLToPath(new URL('../../data/binance_btcusdt_spot_depth_trades_20240808_2354-2400_utc.jsonl.gz', import.meta.url));

describe('Binance BTCUSDT capture replay (real data)', () => {
  const cap = readBinanceCapture(CAPTURE);

  it('syncs from the snapshot, finds no sequence gaps, and agrees with the bookTicker at every diff', () => {
    const r = replayBinance(cap);
    expect(cap.count).toBe(41_249);
    expect(r.synced).toBe(true);
    expect(r.gaps).toEqual([]);
    // two diffs came before the snapshot and were older than it
    expect(r.depthDiffsSkipped).toBe(2);
    expect(r.depthDiffsApplied).toBe(3449);
    expect([r.trades, r.bookTickers]).toEqual([9757, 28_040]);
    // each applied diff is compared with the bookTicker of the latest update id <= its u: the same moment
    expect(r.checks).toBe(3449);
    expect(r.agreementRate).toBeGreaterThanOrEqual(0.99);
    expect(r.fullAgreements).toBeGreaterThanOrEqual(0.99 * r.checks);
    expect(r.book.best(BUY)).toBeLessThan(r.book.best(SELL));
  });

  it('without the snapshot, levels unknown before the first diff make the first checks disagree', () => {
    const r = replayBinance(cap, { useSnapshot: false });
    expect(r.gaps).toEqual([]);
    // the touch is rebuilt only once diffs have written both best levels; the early checks see a book
    // that lacks levels nobody has updated yet
    expect(r.priceAgreements).toBeLessThan(r.checks);
    expect(r.agreementRate).toBeGreaterThan(0.99);
  });

  it('delivers trades and depth to a listener in capture order', () => {
    let trades = 0;
    let lastT = -1;
    let ordered = true;
    let depth = 0;
    replayBinance(cap, {
      validate: false,
      listener: {
        onTrade: (t, p, q) => {
          trades++;
          if (t < lastT || p <= 0 || q <= 0) ordered = false;
          lastT = t;
        },
        onDepth: (t) => {
          depth++;
          if (t < lastT) ordered = false;
          lastT = t;
        },
      },
    });
    expect([trades, depth, ordered]).toEqual([9757, 3449, true]);
  });
});

describe('parseBinanceCapture / replayBinance on small captures', () => {
  const diff = (ns: number, U: number, u: number, b: [string, string][], a: [string, string][]) =>
    `${ns} ${JSON.stringify({ stream: 'x@depth@100ms', data: { e: 'depthUpdate', U, u, b, a } })}`;
  const ticker = (ns: number, u: number, b: string, a: string) => `${ns} ${JSON.stringify({ stream: 'x@bookTicker', data: { u, b, B: '1.0', a, A: '1.0' } })}`;

  it('reports a gap in update ids and keeps going', () => {
    const text = [
      diff(1, 1, 5, [['100.00', '1.0']], [['101.00', '1.0']]),
      ticker(2, 5, '100.00', '101.00'),
      diff(3, 6, 9, [['100.50', '1.0']], []),
      diff(4, 12, 14, [], [['100.90', '1.0']]),
      ticker(5, 13, '100.50', '100.90'),
    ].join('\n');
    const r = replayBinance(parseBinanceCapture(text), { useSnapshot: false });
    expect(r.gaps).toEqual([{ index: 3, expectedU: 10, gotU: 12 }]);
    // the diff ending at id 9 raised the bid, but no bookTicker says so: that check disagrees
    expect([r.checks, r.priceAgreements]).toEqual([3, 2]);
    expect(r.book.lotsAt(BUY, 10_050)).toBe(100_000_000);
  });

  it('drops diffs older than the snapshot and flags a first diff that does not span it', () => {
    const snap = `${3} ${JSON.stringify({ lastUpdateId: 10, bids: [['99.00', '2']], asks: [['102.00', '2']] })}`;
    const text = [diff(1, 1, 8, [['1.00', '1']], []), diff(2, 9, 10, [], []), snap, diff(4, 12, 13, [], [['101.00', '1']])].join('\n');
    const r = replayBinance(parseBinanceCapture(text));
    expect(r.depthDiffsSkipped).toBe(2);
    expect(r.gaps).toEqual([{ index: 3, expectedU: 11, gotU: 12 }]);
    expect([r.book.best(BUY), r.book.best(SELL)]).toEqual([9900, 10_100]);
  });

  it('refuses malformed lines naming the line', () => {
    expect(() => parseBinanceCapture('1 {"stream":"x@trade","data":{"e":"trade","p":"1.001","q":"1"}}')).toThrow('[Matching] capture line 1: invalid price "1.001"');
    expect(() => parseBinanceCapture('1 {}\nzz')).toThrow('capture line 1: no data');
    expect(() => parseBinanceCapture('x {}')).toThrow('capture line 1: expected "<receive ns> <json>"');
    expect(() => parseBinanceCapture('1 {oops')).toThrow('capture line 1: invalid JSON');
  });
});
