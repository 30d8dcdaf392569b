/** The outcome of one request against a key's bucket, with the values of Alpaca's X-RateLimit-* headers. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** When the bucket is full again, UNIX epoch seconds. */
  readonly resetEpochSec: number;
}

interface Bucket {
  tokens: number;
  atNs: bigint;
}

/**
 * A token bucket per API key: `perMinute` requests, refilled continuously (`perMinute` / 60 per second),
 * starting full. Time comes from the injected `nowNs` (epoch ns), so tests can drive it.
 */
export class RateLimiter {
  readonly perMinute: number;
  readonly #nowNs: () => bigint;
  readonly #buckets = new Map<string, Bucket>();

  constructor(perMinute: number, nowNs: () => bigint) {
    this.perMinute = perMinute;
    this.#nowNs = nowNs;
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    const now = this.#nowNs();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.perMinute, atNs: now };
      this.#buckets.set(key, b);
    }
    const perNs = this.perMinute / 60e9;
    if (now > b.atNs) b.tokens = Math.min(this.perMinute, b.tokens + Number(now - b.atNs) * perNs);
    b.atNs = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    const missing = this.perMinute - b.tokens;
    const resetNs = now + BigInt(Math.ceil(missing / perNs));
    return {
      allowed,
      limit: this.perMinute,
      remaining: Math.floor(b.tokens),
      resetEpochSec: Number((resetNs + 999_999_999n) / 1_000_000_000n),
    };
  }
}
