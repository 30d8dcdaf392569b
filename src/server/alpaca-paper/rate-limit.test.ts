import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { uuidFrom } from './faults.js';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('refills continuously at perMinute / 60 per second, per key, up to the limit', () => {
    let now = 1_700_000_000_000_000_000n;
    const rl = new RateLimiter(120, () => now);
    for (let i = 0; i < 120; i++) expect(rl.take('a').allowed).toBe(true);
    const out = rl.take('a');
    expect(out).toMatchObject({ allowed: false, remaining: 0, limit: 120 });
    // full again 60 s after it was empty
    expect(out.resetEpochSec).toBe(1_700_000_060);
    expect(rl.take('b').allowed).toBe(true);
    now += 500_000_000n;
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
    now += 3_600_000_000_000n;
    expect(rl.take('a').remaining).toBe(119);
  });
});

describe('uuidFrom', () => {
  it('draws version-4-layout UUIDs, the same sequence for the same seed', () => {
    const a = new Rng('x');
    const b = new Rng('x');
    const ids = Array.from({ length: 1000 }, () => uuidFrom(a));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Array.from({ length: 1000 }, () => uuidFrom(b))).toEqual(ids);
  });
});
