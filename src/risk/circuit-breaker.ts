import { LiveClock, NS, type Clock } from '../core/clock.js';
import type { Decimal } from '../core/decimal.js';
import { RiskError, riskDecimal } from './errors.js';

/** Options of a CircuitBreaker; amounts as strings, numbers or decimals. */
export interface CircuitBreakerOptions {
  /** A daily loss beyond this (a positive amount) trips the breaker. */
  dailyLossLimit: string | number | Decimal;
  /** Seconds the breaker stays active after tripping; absent = until reset. */
  cooldownSeconds?: string | number | Decimal;
  /** Time source for the cooldown; default LiveClock. */
  clock?: Clock;
}

/** A standalone daily-loss circuit breaker whose cooldown runs on the injected Clock. */
export class CircuitBreaker {
  readonly dailyLossLimit: Decimal;
  /** Cooldown in ns, or undefined (active until reset). */
  readonly cooldownNs: bigint | undefined;
  readonly #clock: Clock;
  #trippedAt: bigint | undefined;

  /** @throws RiskError ConfigInvalid on a negative or non-numeric limit or cooldown */
  constructor(options: CircuitBreakerOptions) {
    const problems: string[] = [];
    const limit = tryDecimal(options.dailyLossLimit, 'dailyLossLimit', problems);
    const cooldown = options.cooldownSeconds === undefined ? undefined : tryDecimal(options.cooldownSeconds, 'cooldownSeconds', problems);
    if (problems.length > 0 || limit === undefined) throw new RiskError('ConfigInvalid', `circuit breaker invalid: ${problems.join('; ')}`);
    this.dailyLossLimit = limit;
    this.cooldownNs = cooldown === undefined ? undefined : cooldown.mul(NS.s).round(0).raw;
    this.#clock = options.clock ?? new LiveClock();
  }

  /**
   * Trips the breaker when `dailyPnl` (quote currency, negative = loss) is a loss beyond the
   * limit; returns whether the breaker is active. A breaker already active keeps its trip time.
   * @throws RiskError ConfigInvalid when dailyPnl is not a decimal
   */
  checkAndTrigger(dailyPnl: string | number | Decimal): boolean {
    const pnl = riskDecimal(dailyPnl, 'dailyPnl', 'ConfigInvalid');
    if (this.isActive) return true;
    if (pnl.neg().gt(this.dailyLossLimit)) {
      this.#trippedAt = this.#clock.now();
      return true;
    }
    return false;
  }

  /** Trips the breaker now, whatever the PnL. */
  trip(): void {
    if (!this.isActive) this.#trippedAt = this.#clock.now();
  }

  /** Clears the breaker. */
  reset(): void {
    this.#trippedAt = undefined;
  }

  /** True while tripped and within the cooldown (read on the injected Clock). */
  get isActive(): boolean {
    const t = this.#trippedAt;
    if (t === undefined) return false;
    if (this.cooldownNs === undefined || this.#clock.now() < t + this.cooldownNs) return true;
    this.#trippedAt = undefined;
    return false;
  }

  /** Epoch ns when the cooldown ends; undefined when inactive or active until reset. */
  get activeUntil(): bigint | undefined {
    if (!this.isActive || this.#trippedAt === undefined || this.cooldownNs === undefined) return undefined;
    return this.#trippedAt + this.cooldownNs;
  }
}

function tryDecimal(v: unknown, what: string, problems: string[]): Decimal | undefined {
  try {
    const d = riskDecimal(v, what, 'ConfigInvalid', true);
    if (d.isNegative()) {
      problems.push(`${what} cannot be negative, got ${d.toString()}`);
      return undefined;
    }
    return d;
  } catch (e) {
    if (e instanceof RiskError) {
      problems.push(e.detail);
      return undefined;
    }
    throw e;
  }
}

/**
 * The seed's factory: a breaker with a daily loss limit and a cooldown in seconds.
 * @throws RiskError ConfigInvalid
 */
export function makeCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}
