import { describe, expect, it } from 'vitest';
import { TestClock, NS, nsToIso, isoToNs } from './clock.js';
import { Rng } from './rng.js';
import { InstrumentId, clientOrderId } from './ids.js';

describe('TestClock', () => {
  it('fires timers in time order, each at its own time', () => {
    const clock = new TestClock(0n);
    const seen: string[] = [];
    clock.setTimer(2n * NS.s, (t) => seen.push(`b@${t}`));
    clock.setTimer(1n * NS.s, (t) => seen.push(`a@${t}`));
    const c = clock.setTimer(3n * NS.s, () => seen.push('c'));
    clock.setTimer(2n * NS.s, (t) => {
      seen.push(`b2@${t}`);
      clock.setTimer(t + 1n, (u) => seen.push(`nested@${u}`));
    });
    clock.cancelTimer(c);
    clock.advanceTo(5n * NS.s);
    expect(seen).toEqual(['a@1000000000', 'b@2000000000', 'b2@2000000000', 'nested@2000000001']);
    expect(clock.now()).toBe(5n * NS.s);
    expect(() => clock.advanceTo(1n)).toThrow(/\[ClockError\]/);
  });

  it('formats and parses ISO times in ns', () => {
    expect(nsToIso(1_296_570_660_000_000_000n)).toBe('2011-02-01T14:31:00.000Z');
    expect(isoToNs('2011-02-01T14:31:00Z')).toBe(1_296_570_660_000_000_000n);
    expect(nsToIso(1n)).toBe('1970-01-01T00:00:00.000000001Z');
  });
});

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws unbiased integers in range', () => {
    const r = new Rng('ints');
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[r.int(0, 5)]!++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(400);
  });
});

describe('ids', () => {
  it('parses instrument ids at the last dot', () => {
    const id = InstrumentId.parse('BRK.B.XNYS');
    expect(id.symbol).toBe('BRK.B');
    expect(id.venue).toBe('XNYS');
    expect(InstrumentId.parse('SPY.XNYS').toString()).toBe('SPY.XNYS');
    expect(() => InstrumentId.parse('SPY')).toThrow(/\[InvalidIdentifier\]/);
    expect(() => clientOrderId('has space')).toThrow(/\[InvalidIdentifier\]/);
  });
});
