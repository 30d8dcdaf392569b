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
      expect(snap.layout).toBe('closes;sma:30,ema:12,rsi:14,atr:14,slope:20,vwap,bollinger:30:2,cross:5:20');
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

  it('packs with packHead what pack would write for windows that are the shared closes, and changes its version with every update, restore and registration', () => {
    const feed = bars(new Rng('sym-ind-version'), 90);
    const a = registry();
    const versions = new Set<number>([a.reg.version]);
    let prev = new Float64Array(0);
    for (let i = 0; i < feed.length; i++) {
      a.reg.update(feed[i] as BarView, i % 40 === 0);
      expect(versions.has(a.reg.version)).toBe(false);
      versions.add(a.reg.version);
      // slots packed at one version are what packInto writes again while it holds
      const got = new Float64Array(a.reg.packedLength());
      const end = a.reg.packInto(got, 0);
      const again = new Float64Array(a.reg.packedLength());
      expect(a.reg.packInto(again, 0)).toBe(end);
      expect(bits([...again.subarray(0, end)])).toEqual(bits([...got.subarray(0, end)]));
      expect(bits([...got.subarray(0, end)])).not.toEqual(bits([...prev]));
      prev = got.slice(0, end);
    }
    // restored from its own snapshot (the synced path is left: windows are compared), the slots are the same
    const snap = a.reg.snapshot();
    const before = a.reg.version;
    a.reg.restore(decodeStateBinary(encodeStateBinary(snap)) as SymbolIndicatorsState);
    expect(a.reg.version).not.toBe(before);
    expect(bits([...a.reg.snapshot().packed])).toEqual(bits([...snap.packed]));
    const regs = a.reg.registrations;
    const v = a.reg.version;
    a.reg.sma(7);
    expect(a.reg.registrations).toBe(regs + 1);
    expect(a.reg.version).not.toBe(v);
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
    expect(() => other.restore(snap)).toThrow(/packs \[closes;sma:30,.*\] but this symbol registers \[closes;sma:31\]/);
    // where each packed indicator starts: after the shared closes block, a count (negated: window shared) and slots
    const keys = snap.layout.slice('closes;'.length).split(',');
    const at: Record<string, number> = {};
    let p = 1 + (snap.packed[0] as number);
    for (const k of keys) {
      at[k] = p;
      p += 1 + Math.abs(snap.packed[p] as number);
    }
    expect(p).toBe(snap.packed.length);
    // every windowed indicator shares the closes: sma 30, slope 20, bollinger 30, cross 5/20 (40 bars fed)
    expect(snap.packed[0]).toBe(30);
    for (const k of ['sma:30', 'slope:20', 'bollinger:30:2', 'cross:5:20']) expect(snap.packed[at[k] as number], k).toBeLessThan(0);
    const b = registry();
    const before = encodeStateBinary(b.reg.snapshot());
    const cut = { ...snap, packed: snap.packed.slice(0, snap.packed.length - 3) };
    expect(() => b.reg.restore(cut)).toThrow(/damaged or cut/);
    const longer = { ...snap, packed: Float64Array.from([...snap.packed, 1]) };
    expect(() => b.reg.restore(longer)).toThrow(/1 packed slots left over/);
    const badCount = { ...snap, packed: snap.packed.slice() };
    badCount.packed[(at['sma:30'] as number) + 1] = 2.5;
    expect(() => b.reg.restore(badCount)).toThrow(/sma:30's shared window at slot \d+ is damaged/);
    const badCloses = { ...snap, packed: snap.packed.slice() };
    badCloses.packed[0] = 31;
    expect(() => b.reg.restore(badCloses)).toThrow(/shared closes block is damaged/);
    // ema (second) refuses after sma was restored: sma goes back
    const emaBad = { ...snap, packed: snap.packed.slice() };
    emaBad.packed[(at['ema:12'] as number) + 1] = -1;
    expect(() => b.reg.restore(emaBad)).toThrow(/Ema restore: count/);
    expect(encodeStateBinary(b.reg.snapshot()).equals(before)).toBe(true);
    // the cross's packed slots are checked before anything changes
    const badCross = { ...snap, packed: snap.packed.slice() };
    badCross.packed[(at['cross:5:20'] as number) + 1] = 7;
    expect(() => b.reg.restore(badCross)).toThrow(/CrossDetector unpack: relation slot is damaged/);
    expect(encodeStateBinary(b.reg.snapshot()).equals(before)).toBe(true);
  });

  it('packs a window that no longer equals the newest closes in full, and restores it exactly', () => {
    // a close the crossover refuses (more decimals than its precision) reaches the plain indicators only
    const reg = new SymbolIndicators(2);
    const sma = reg.sma(4);
    const cross = reg.cross(2, 3);
    const feed = [10, 10.25, 10.5, 10.125, 10.75, 11];
    for (const close of feed) {
      try {
        reg.update({ open: close, high: close, low: close, close, volume: 1 } as unknown as BarView, false);
      } catch {
        // the crossover threw after the sma took the close
      }
    }
    const snap = reg.snapshot();
    let p = 1 + (snap.packed[0] as number);
    const smaLen = snap.packed[p] as number;
    p += 1 + Math.abs(smaLen);
    const crossLen = snap.packed[p] as number;
    expect(smaLen).toBeLessThan(0);
    expect(crossLen).toBeGreaterThan(0);
    const back = new SymbolIndicators(2);
    const sma2 = back.sma(4);
    const cross2 = back.cross(2, 3);
    back.restore(decodeStateBinary(encodeStateBinary(snap)) as SymbolIndicatorsState);
    expect(encodeStateBinary(back.snapshot()).equals(encodeStateBinary(snap))).toBe(true);
    for (const close of [11.25, 11.5, 10.75]) {
      for (const r of [reg, back]) r.update({ open: close, high: close, low: close, close, volume: 1 } as unknown as BarView, false);
      expect(sma2.value).toBe(sma.value);
      expect(cross2.current).toBe(cross.current);
    }
  });
});
