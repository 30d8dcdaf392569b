import { NS, type Clock, type TimerId } from '../../core/clock.js';
import type { Rng } from '../../core/rng.js';
import { AlpacaError } from './errors.js';

/** Resolves after `delayNs` on `clock` (a TestClock resolves it when advanced past). */
export function sleep(clock: Clock, delayNs: bigint): Promise<void> {
  if (delayNs <= 0n) return Promise.resolve();
  return new Promise((resolve) => clock.setTimer(clock.now() + delayNs, () => resolve()));
}

/** Options of the token bucket. */
export interface TokenBucketOptions {
  /** Requests allowed in any 60 s window (Alpaca: 200). */
  readonly perMinute: number;
  /** Requests that may go at once after a quiet period; the rest of the minute's budget refills evenly. Default min(10, perMinute / 4). */
  readonly burst?: number;
}

/**
 * A token bucket rate limiter on the injected clock, as GCRA (exact integer ns): capacity `burst`,
 * refilled at `perMinute - burst` per minute, so no 60 s window ever holds more than `perMinute`
 * grants. Waiters are served in arrival order. `pauseUntil` (a 429's Retry-After) empties the bucket
 * and grants nothing before the given time.
 */
export class TokenBucket {
  readonly perMinute: number;
  readonly burst: number;
  readonly #clock: Clock;
  /** ns between tokens */
  readonly #interval: bigint;
  /** how far ahead of now the theoretical arrival time may run (burst - 1 tokens) */
  readonly #tolerance: bigint;
  #tat = 0n;
  #blockedUntil = 0n;
  readonly #waiters: (() => void)[] = [];
  #timer: TimerId | undefined;
  #timerAt = 0n;

  /** @throws AlpacaError InvalidConfig for a limit below 2 per minute or a burst outside [1, perMinute) */
  constructor(options: TokenBucketOptions, clock: Clock) {
    const n = options.perMinute;
    if (!Number.isInteger(n) || n < 2) throw new AlpacaError('InvalidConfig', `rate limit must be an integer >= 2 requests per minute, got ${n}`);
    const b = options.burst ?? Math.max(1, Math.min(10, Math.floor(n / 4)));
    if (!Number.isInteger(b) || b < 1 || b >= n) throw new AlpacaError('InvalidConfig', `rate limit burst must be an integer in [1, ${n - 1}], got ${b}`);
    this.perMinute = n;
    this.burst = b;
    this.#clock = clock;
    // +1 ns keeps even a closed 60 s window within the limit
    this.#interval = (NS.m + BigInt(n - b) - 1n) / BigInt(n - b) + 1n;
    this.#tolerance = BigInt(b - 1) * this.#interval;
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes a token when one is free and nobody waits; false otherwise (then use acquire). */
  tryAcquire(): boolean {
    return this.#waiters.length === 0 && this.#tryTake();
  }

  /** Resolves when the caller may send one request (immediately when a token is free). */
  acquire(): Promise<void> {
    if (this.#waiters.length === 0 && this.#tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#pump();
    });
  }

  /** Grants nothing before `atNs` (epoch ns), then restarts from an empty bucket. */
  pauseUntil(atNs: bigint): void {
    if (atNs <= this.#blockedUntil) return;
    this.#blockedUntil = atNs;
    const empty = atNs + this.#tolerance;
    if (this.#tat < empty) this.#tat = empty;
  }

  /** Time the next token is free, epoch ns. */
  #nextAt(): bigint {
    const byRate = this.#tat - this.#tolerance;
    return byRate > this.#blockedUntil ? byRate : this.#blockedUntil;
  }

  #tryTake(): boolean {
    const now = this.#clock.now();
    if (now < this.#nextAt()) return false;
    this.#tat = (this.#tat > now ? this.#tat : now) + this.#interval;
    return true;
  }

  #pump(): void {
    while (this.#waiters.length > 0 && this.#tryTake()) (this.#waiters.shift() as () => void)();
    if (this.#waiters.length === 0) return;
    const at = this.#nextAt();
    if (this.#timer !== undefined && this.#timerAt === at) return;
    if (this.#timer !== undefined) this.#clock.cancelTimer(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(at, () => {
      this.#timer = undefined;
      this.#pump();
    });
  }
}

/** Breaker states. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of the circuit breaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before one probe may go, ns (default 10 s). */
  readonly cooldownNs?: bigint;
}

/**
 * A circuit breaker on the injected clock: after `failureThreshold` consecutive failures it opens and
 * requests fail fast with `CircuitOpen`; after `cooldownNs` one probe goes (half-open): its success
 * closes the circuit, its failure reopens it for another cooldown.
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownNs: bigint;
  readonly #clock: Clock;
  #failures = 0;
  #state: BreakerState = 'closed';
  #openUntil = 0n;
  #probing = false;

  /** @throws AlpacaError InvalidConfig for a threshold below 1 or a negative cooldown */
  constructor(options: CircuitBreakerOptions, clock: Clock) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownNs = options.cooldownNs ?? 10n * NS.s;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new AlpacaError('InvalidConfig', `circuit breaker threshold must be an integer >= 1, got ${this.failureThreshold}`);
    }
    if (this.cooldownNs < 0n) throw new AlpacaError('InvalidConfig', `circuit breaker cooldown must be >= 0 ns, got ${this.cooldownNs}`);
    this.#clock = clock;
  }

  /** The current state (an open circuit whose cooldown has passed reads half-open). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock.now() >= this.#openUntil) return 'half-open';
    return this.#state;
  }

  /**
   * Admits one request or fails fast; in half-open state only one probe is admitted at a time.
   * @throws AlpacaError CircuitOpen naming `what` and when the next probe may go
   */
  admit(what: string): void {
    const now = this.#clock.now();
    if (this.#state === 'closed') return;
    if (this.#state === 'open' && now >= this.#openUntil) {
      this.#state = 'half-open';
      this.#probing = false;
    }
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return;
    }
    const waitMs = this.#state === 'open' ? Number((this.#openUntil - now) / NS.ms) : 0;
    throw new AlpacaError(
      'CircuitOpen',
      `${what} not sent: the circuit to Alpaca is open after ${this.#failures} consecutive failures` +
        (this.#state === 'open' ? `; next probe in ${waitMs} ms` : '; a probe request is in flight'),
    );
  }

  /** Records a healthy answer: closes the circuit. */
  success(): void {
    this.#failures = 0;
    this.#state = 'closed';
    this.#probing = false;
  }

  /** Records a failure (network error, timeout, 5xx): may open the circuit. */
  failure(): void {
    this.#failures++;
    if (this.#state === 'half-open' || this.#failures >= this.failureThreshold) {
      this.#state = 'open';
      this.#probing = false;
      this.#openUntil = this.#clock.now() + this.cooldownNs;
    }
  }

  /** Releases a half-open probe slot without a verdict (the request was not sent). */
  release(): void {
    this.#probing = false;
  }
}

/** Options of exponential backoff. */
export interface BackoffOptions {
  /** First delay, ns (default 100 ms). */
  readonly baseNs?: bigint;
  /** Largest delay, ns (default 10 s). */
  readonly maxNs?: bigint;
}

/**
 * Exponential backoff with "equal jitter": the cap doubles per attempt (base x 2^attempt, at most max)
 * and the delay is uniform in [cap / 2, cap), drawn from the seeded `rng`; `attempt` counts from 0.
 */
export function backoffDelayNs(attempt: number, rng: Rng, options: BackoffOptions = {}): bigint {
  const base = options.baseNs ?? 100n * NS.ms;
  const max = options.maxNs ?? 10n * NS.s;
  let cap = base;
  for (let i = 0; i < attempt && cap < max; i++) cap *= 2n;
  if (cap > max) cap = max;
  const half = cap / 2n;
  return half + BigInt(Math.floor(rng.next() * Number(cap - half)));
}
