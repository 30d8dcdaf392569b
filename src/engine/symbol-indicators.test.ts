import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { Atr, Bollinger, CrossDetector, Ema, IndicatorError, Rsi, Slope, Sma, Vwap } from '../indicators/index.js';
import { decodeStateBinary, encodeStateBinary } from './state/binary.js';
import { SymbolIndicators, type SymbolIndicatorsState } from './symbol-indicators.js';
import type { BarView } from './../strategy/types.js';

function registry(): { reg: SymbolIndicators; read: () => number[] } {
  const reg = new SymbolIndicators(6);
  const handles = [reg.sma(30), reg.ema(12), reg.rsi(14), reg.atr(14), reg.slope(20), reg.vwap(), reg.range(10)];
  const b = reg.bollinger(30, 2);
  const m = reg.macd(12, 26, 9);
  const c = reg.cross(5, 20);
  const read = (): number[] => [...handles.map((h) => h.value), b.upper.value, b.lower.value, m.histogram.value, c.current];
  return { reg, read };
}

function bars(rng: Rng, n: number): BarView[] {
  const out: BarView[] = [];
  let px = 100;
  for (let i = 0; i < n; i++) {
    px *= 1 + (rng.next() - 0.5) * 0.01;
    const close = Math.round(px * 100) / 100;
    out.push({ open: close, high: close + rng.next(), low: close - rng.next(), close, volume: 100 + rng.int(0, 1000) } as unknown as BarView);
  }
  return out;
}

function bits(xs: number[]): string[] {
  return Array.from(new BigUint64Array(Float64Array.from(xs).buffer), (x) => x.toString(16));
}

describe('SymbolIndicators snapshot', () => {
  it('packs the numeric indicators into one Float64Array and restores them bit-exactly through the binary checkpoint', () => {
    for (const cut of [0, 5, 29, 30, 31, 77]) {
      const feed = bars(new Rng(`sym-ind-${cut}`), 120);
      const a = registry();
      for (let i = 0; i < cut; i++) a.reg.update(feed[i] as BarView, i % 50 === 0);
      const snap = a.reg.snapshot();
      expect(snap.packed).toBeInstanceOf(Float64Array);
      expect(snap.layout).toBe('sma:30,ema:12,rsi:14,atr:14,slope:20,vwap,bollinger:30:2,cross:5:20');
      expect(Object.keys(snap.objects)).toEqual(['range:10', 'macd:12:26:9']);
      const b = registry();
      b.reg.restore(decodeStateBinary(encodeStateBinary(snap)) as SymbolIndicatorsState);
      expect(encodeStateBinary(b.reg.snapshot()).equals(encodeStateBinary(snap))).toBe(true);
      for (let i = cut; i < feed.length; i++) {
        a.reg.update(feed[i] as BarView, i % 50 === 0);
        b.reg.update(feed[i] as BarView, i % 50 === 0);
        expect(bits(b.read()), `cut ${cut}, bar ${i}`).toEqual(bits(a.read()));
      }
    }
  });

  it('still restores the older snapshot-by-key form', () => {
    const feed = bars(new Rng('sym-ind-old'), 60);
    const a = registry();
    for (const bar of feed) a.reg.update(bar, false);
    // the per-key form, from stand-alone indicators fed the same bars
    const sma = new Sma(30), ema = new Ema(12), rsi = new Rsi(14), atr = new Atr(14), slope = new Slope(20), vwap = new Vwap(), boll = new Bollinger(30, 2);
    const cross = new CrossDetector(5, 20, 6);
    for (const bar of feed) {
      cross.update(bar.close);
      for (const ind of [sma, ema, rsi, slope, boll]) ind.update(bar.close);
      atr.update(bar.high, bar.low, bar.close);
      vwap.update(bar.high, bar.low, bar.close, bar.volume);
    }
    const snap = a.reg.snapshot();
    const old: Record<string, unknown> = {
      'sma:30': sma.snapshot(),
      'ema:12': ema.snapshot(),
      'rsi:14': rsi.snapshot(),
      'atr:14': atr.snapshot(),
      'slope:20': slope.snapshot(),
      vwap: vwap.snapshot(),
      'bollinger:30:2': boll.snapshot(),
      'cross:5:20': cross.snapshot(),
      ...snap.objects,
    };
    const fresh = registry();
    fresh.reg.restore(old);
    expect(encodeStateBinary(fresh.reg.snapshot()).equals(encodeStateBinary(snap))).toBe(true);
  });

  it('refuses packed state of other registrations or a damaged one, changing nothing', () => {
    const a = registry();
    for (const bar of bars(new Rng('sym-ind-bad'), 40)) a.reg.update(bar, false);
    const snap = a.reg.snapshot();
    const other = new SymbolIndicators(6);
    other.sma(31);
    expect(() => other.restore(snap)).toThrow(IndicatorError);
    expect(() => other.restore(snap)).toThrow(/packs \[sma:30,.*\] but this symbol registers \[sma:31\]/);
    const b = registry();
    const before = encodeStateBinary(b.reg.snapshot());
    const cut = { ...snap, packed: snap.packed.slice(0, snap.packed.length - 3) };
    expect(() => b.reg.restore(cut)).toThrow(/damaged or cut/);
    const longer = { ...snap, packed: Float64Array.from([...snap.packed, 1]) };
    expect(() => b.reg.restore(longer)).toThrow(/1 packed slots left over/);
    const badCount = { ...snap, packed: snap.packed.slice() };
    badCount.packed[1] = 2.5;
    expect(() => b.reg.restore(badCount)).toThrow(/Sma restore: count must be an integer/);
    // bollinger (the last but the cross, 29 slots: length, relation, 1 + 5 and 1 + 20) refuses after the
    // earlier ones were restored: they go back
    const lastBad = { ...snap, packed: snap.packed.slice() };
    lastBad.packed[snap.packed.length - 29 - 35] = -1;
    expect(() => b.reg.restore(lastBad)).toThrow(/Bollinger restore: count/);
    expect(encodeStateBinary(b.reg.snapshot()).equals(before)).toBe(true);
    // the cross's packed slots are checked before anything changes
    const badCross = { ...snap, packed: snap.packed.slice() };
    badCross.packed[snap.packed.length - 28] = 7;
    expect(() => b.reg.restore(badCross)).toThrow(/CrossDetector unpack: relation slot is damaged/);
    const badRaw = { ...snap, packed: snap.packed.slice() };
    badRaw.packed[snap.packed.length - 1] = 0.5;
    expect(() => b.reg.restore(badRaw)).toThrow(/non-integer raw price 0.5/);
    expect(encodeStateBinary(b.reg.snapshot()).equals(before)).toBe(true);
  });
});
