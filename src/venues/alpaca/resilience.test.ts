import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NS, TestClock } from '../../core/clock.js';
import { Rng } from '../../core/rng.js';
import { AlpacaError } from './errors.js';
import { backoffDelayNs, CircuitBreaker, TokenBucket } from './resilience.js';

/** Runs the clock forward in steps until `done` or the horizon, letting promise callbacks run between steps. */
async function runClock(clock: TestClock, stepNs: bigint, untilNs: bigint, done: () => boolean): Promise<void> {
  while (!done() && clock.now() < untilNs) {
    const next = clock.nextTimerAt();
    let to = next !== undefined && next > clock.now() ? next : clock.now() + stepNs;
    if (to > untilNs) to = untilNs;
    clock.advanceTo(to);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe('TokenBucket', () => {
  it('grants the burst at once, then paces so that no 60 s window holds more than the limit', async () => {
    const clock = new TestClock(1_000n * NS.s);
    const bucket = new TokenBucket({ perMinute: 200, burst: 20 }, clock);
    const grants: bigint[] = [];
    const n = 700;
    for (let i = 0; i < n; i++) void bucket.acquire().then(() => grants.push(clock.now()));
    await Promise.resolve();
    await Promise.resolve();
    expect(grants.length).toBe(20);
    await runClock(clock, NS.ms, 2_000n * NS.s, () => grants.length === n);
    expect(grants.length).toBe(n);
    for (let i = 1; i < n; i++) expect(grants[i] as bigint).toBeGreaterThanOrEqual(grants[i - 1] as bigint);
    // any 201 consecutive grants span more than 60 s
    for (let i = 0; i + 200 < n; i++) expect((grants[i + 200] as bigint) - (grants[i] as bigint)).toBeGreaterThan(NS.m);
    // and the sustained rate is the limit less the burst: 180 per minute
    const span = (grants[n - 1] as bigint) - (grants[20] as bigint);
    const perMin = ((n - 21) * 60) / Number(span / NS.ms / 1000n);
    expect(perMin).toBeGreaterThan(175);
    expect(perMin).toBeLessThanOrEqual(180.5);
  });

  it('keeps any seeded arrival pattern within the limit in every 60 s window', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 60 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 150 }), async (limit, gapsMs) => {
        const clock = new TestClock(0n);
        const bucket = new TokenBucket({ perMinute: limit }, clock);
        const grants: bigint[] = [];
        for (const gap of gapsMs) {
          clock.advance(BigInt(gap) * NS.ms);
          void bucket.acquire().then(() => grants.push(clock.now()));
          await Promise.resolve();
        }
        await runClock(clock, NS.ms, clock.now() + 3_600n * NS.s, () => grants.length === gapsMs.length);
        expect(grants.length).toBe(gapsMs.length);
        for (let i = 0; i + limit < grants.length; i++) expect((grants[i + limit] as bigint) - (grants[i] as bigint)).toBeGreaterThan(NS.m);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('grants nothing before a pause ends (Retry-After), then restarts from an empty bucket', async () => {
    const clock = new TestClock(0n);
    const bucket = new TokenBucket({ perMinute: 120, burst: 10 }, clock);
    bucket.pauseUntil(5n * NS.s);
    const grants: bigint[] = [];
    for (let i = 0; i < 3; i++) void bucket.acquire().then(() => grants.push(clock.now()));
    await runClock(clock, NS.ms, 4_999n * NS.ms, () => false);
    expect(grants).toEqual([]);
    await runClock(clock, NS.ms, 60n * NS.s, () => grants.length === 3);
    expect(grants[0]).toBe(5n * NS.s);
    // 110 per minute after the burst: one per ~545 ms
    expect((grants[1] as bigint) - (grants[0] as bigint)).toBeGreaterThan(540n * NS.ms);
  });

  it('refuses a limit or burst that cannot be honoured', () => {
    const clock = new TestClock();
    expect(() => new TokenBucket({ perMinute: 1 }, clock)).toThrow(/InvalidConfig/);
    expect(() => new TokenBucket({ perMinute: 10, burst: 10 }, clock)).toThrow(/burst/);
  });
});

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, fails fast, lets one probe through after the cooldown', () => {
    const clock = new TestClock(0n);
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownNs: 10n * NS.s }, clock);
    for (let i = 0; i < 2; i++) {
      b.admit('GET /x');
      b.failure();
    }
    b.admit('GET /x');
    b.success();
    for (let i = 0; i < 3; i++) {
      b.admit('GET /x');
      b.failure();
    }
    expect(b.state).toBe('open');
    let err: unknown;
    try {
      b.admit('GET /v2/account');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlpacaError);
    expect((err as AlpacaError).code).toBe('CircuitOpen');
    expect((err as AlpacaError).message).toMatch(/GET \/v2\/account.*3 consecutive failures.*next probe in 10000 ms/);
    clock.advance(10n * NS.s);
    expect(b.state).toBe('half-open');
    b.admit('probe');
    expect(() => b.admit('second')).toThrow(/probe request is in flight/);
    b.failure();
    expect(b.state).toBe('open');
    expect(() => b.admit('again')).toThrow(/CircuitOpen/);
    clock.advance(10n * NS.s);
    b.admit('probe 2');
    b.success();
    expect(b.state).toBe('closed');
    b.admit('normal');
  });
});

describe('backoffDelayNs', () => {
  it('doubles its cap per attempt up to the maximum, jittered in [cap/2, cap) by the seeded rng', () => {
    const rng = new Rng(3);
    const opts = { baseNs: 100n * NS.ms, maxNs: 2n * NS.s };
    for (let attempt = 0; attempt < 10; attempt++) {
      const cap = [100n, 200n, 400n, 800n, 1600n][attempt] ?? 2000n;
      for (let k = 0; k < 50; k++) {
        const d = backoffDelayNs(attempt, rng, opts);
        expect(d).toBeGreaterThanOrEqual((cap * NS.ms) / 2n);
        expect(d).toBeLessThan(cap * NS.ms);
      }
    }
    const a = [0, 1, 2, 3].map((i) => backoffDelayNs(i, new Rng(9), opts));
    const b = [0, 1, 2, 3].map((i) => backoffDelayNs(i, new Rng(9), opts));
    expect(a).toEqual(b);
  });
});
