import { describe, expect, it } from 'vitest';
import { IndicatorError } from './errors.js';
import { IndicatorSet } from './indicator-set.js';
import { Macd } from './macd.js';
import { Sma } from './sma.js';

const bars = Array.from({ length: 80 }, (_, i) => {
  const c = 100 + Math.sin(i / 5) * 3 + i / 50;
  return { high: c + 0.5, low: c - 0.5, close: c, volume: 1000 + i };
});

describe('IndicatorSet', () => {
  const config = { sma: [10, 30], ema: 20, rsi: 14, atr: 14, bollinger: {}, macd: { fast: 5, slow: 12, signal: 4 }, vwap: {}, slope: 20, range: 20 };

  it('builds indicators by name and parameters and advances them all with each bar', () => {
    const set = new IndicatorSet(config);
    const ref = new Sma(30);
    const macd = new Macd(5, 12, 4);
    for (const b of bars) {
      set.update(b);
      ref.update(b.close);
      macd.update(b.close);
    }
    expect(set.count).toBe(80);
    expect(set.sma(30).value).toBe(ref.value);
    expect(set.macd(5, 12, 4).signal).toBe(macd.signal);
    expect(set.isReady).toBe(true);
    expect(set.warmupBars).toBe(30);
    expect(Object.keys(set.values())).toEqual(['sma(10)', 'sma(30)', 'ema(20)', 'rsi(14)', 'slope(20)', 'atr(14)', 'range(20)', 'bollinger(20,2)', 'macd(5,12,4)', 'vwap']);
  });

  it('startSession re-anchors VWAP only', () => {
    const set = new IndicatorSet(config);
    for (const b of bars) set.update(b);
    const sma = set.sma(10).value;
    set.startSession();
    expect(set.vwap.isReady).toBe(false);
    expect(set.isReady).toBe(false);
    expect(set.sma(10).value).toBe(sma);
    set.update({ high: 4, low: 2, close: 3, volume: 10 });
    expect(set.vwap.value).toBe(3);
  });

  it('reports every config problem at once', () => {
    expect(() => new IndicatorSet({ sma: [0, 10], rsi: 1, macd: { fast: 30, slow: 10, sig: 2 }, foo: 1 } as never)).toThrowError(
      /\[InvalidParameter\] indicator set: unknown indicator "foo".*sma: period must be a positive integer, got 0.*Rsi: period must be.*macd: unknown key "sig".*Macd: fast period 30 must be below slow period 10/,
    );
  });

  it('names what is not configured', () => {
    const set = new IndicatorSet({ sma: 10 });
    expect(() => set.sma(20)).toThrowError('[NotConfigured] indicator set: sma(20) is not configured (configured: 10)');
    expect(() => set.vwap).toThrowError(IndicatorError);
  });

  it('snapshot/restore through JSON continues identically; a mismatched snapshot changes nothing', () => {
    const a = new IndicatorSet(config);
    for (const b of bars.slice(0, 40)) a.update(b);
    const b2 = new IndicatorSet(config);
    b2.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (const b of bars.slice(40)) {
      a.update(b);
      b2.update(b);
    }
    expect(b2.values()).toEqual(a.values());
    expect(b2.count).toBe(80);
    const other = new IndicatorSet({ sma: 10 });
    const before = JSON.stringify(a.snapshot());
    expect(() => a.restore(other.snapshot())).toThrowError(/\[InvalidState\] indicator set restore: snapshot holds \[sma\(10\)\]/);
    const bad = a.snapshot();
    (bad.items['rsi(14)'] as { count: number }).count = -5;
    expect(() => a.restore(bad)).toThrowError(/\[InvalidState\] Rsi restore/);
    expect(JSON.stringify(a.snapshot())).toBe(before);
  });

  it('rejects a bad bar before touching any indicator', () => {
    const set = new IndicatorSet(config);
    set.update(bars[0]!);
    const before = JSON.stringify(set.snapshot());
    expect(() => set.update({ high: 1, low: 2, close: 1.5, volume: 1 })).toThrowError(/\[InvalidInput\] indicator set: bad bar/);
    expect(() => set.update({ high: 2, low: 1, close: Number.NaN, volume: 1 })).toThrowError(/\[InvalidInput\]/);
    expect(JSON.stringify(set.snapshot())).toBe(before);
  });
});
