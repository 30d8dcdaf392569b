import type { Decimal } from '../core/decimal.js';
import { RiskError, riskDecimal } from './errors.js';

/** The 8 reasons a risk check rejects an order. */
export type RiskReasonKind =
  | 'OrderTooLarge'
  | 'PositionLimitExceeded'
  | 'MaxLeverageExceeded'
  | 'MaxDrawdownExceeded'
  | 'DailyPnLLimit'
  | 'CircuitBreakerActive'
  | 'ConcentrationTooHigh'
  | 'InsufficientMargin';

/** Every RiskReason kind. */
export const RISK_REASON_KINDS: readonly RiskReasonKind[] = Object.freeze([
  'OrderTooLarge',
  'PositionLimitExceeded',
  'MaxLeverageExceeded',
  'MaxDrawdownExceeded',
  'DailyPnLLimit',
  'CircuitBreakerActive',
  'ConcentrationTooHigh',
  'InsufficientMargin',
]);

/** Plain form of a RiskReason: the kind plus fields such as `max` and `actual` (exact decimal strings). */
export type RiskReasonDict = { kind: RiskReasonKind } & Record<string, string>;

/** Why an order was rejected, carrying the limit (`max`) and the actual value (`actual`) as exact strings. */
export class RiskReason {
  readonly kind: RiskReasonKind;
  readonly #fields: Readonly<Record<string, string>>;

  constructor(kind: RiskReasonKind, fields: Readonly<Record<string, string>> = {}) {
    this.kind = kind;
    this.#fields = Object.freeze({ ...fields });
    Object.freeze(this);
  }

  /** A reason with `max` and `actual` decimals (and extra string fields such as `symbol`). */
  static limit(kind: RiskReasonKind, max: Decimal, actual: Decimal, extra: Readonly<Record<string, string>> = {}): RiskReason {
    return new RiskReason(kind, { max: max.toString(), actual: actual.toString(), ...extra });
  }

  /**
   * From a plain dict: `kind` plus fields; numbers and decimals become exact strings.
   * @throws RiskError ConfigInvalid on an unknown kind or a non-decimal number field
   */
  static fromDict(d: Readonly<Record<string, unknown>>): RiskReason {
    const kind = d.kind;
    if (typeof kind !== 'string' || !(RISK_REASON_KINDS as readonly string[]).includes(kind)) {
      throw new RiskError('ConfigInvalid', `unknown RiskReason kind ${JSON.stringify(kind)}; expected one of ${RISK_REASON_KINDS.join(', ')}`);
    }
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(d)) {
      if (k === 'kind' || v === undefined) continue;
      fields[k] = typeof v === 'string' ? v : riskDecimal(v, `RiskReason field ${k}`, 'ConfigInvalid', true).toString();
    }
    return new RiskReason(kind as RiskReasonKind, fields);
  }

  /** A field (`max`, `actual`, `symbol`, ...) or undefined. */
  get(key: string): string | undefined {
    return key === 'kind' ? this.kind : this.#fields[key];
  }

  /** The plain form: `{ kind, max, actual, ... }`. */
  toDict(): RiskReasonDict {
    return { ...this.#fields, kind: this.kind } as RiskReasonDict;
  }

  toString(): string {
    const parts = Object.entries(this.#fields).map(([k, v]) => `${k}=${v}`);
    return parts.length === 0 ? this.kind : `${this.kind}(${parts.join(', ')})`;
  }
}

/** Outcome of a risk check: Allow, Reject(reason) or Warn(message) (kind tag pattern). */
export class RiskResult {
  readonly kind: 'Allow' | 'Reject' | 'Warn';
  readonly reason: RiskReason | undefined;
  readonly message: string | undefined;

  private constructor(kind: 'Allow' | 'Reject' | 'Warn', reason: RiskReason | undefined, message: string | undefined) {
    this.kind = kind;
    this.reason = reason;
    this.message = message;
    Object.freeze(this);
  }

  /** The shared Allow result. */
  static readonly ALLOW = new RiskResult('Allow', undefined, undefined);

  /** A rejection for `reason`. */
  static reject(reason: RiskReason): RiskResult {
    return new RiskResult('Reject', reason, `${reason.kind}: ${reason.toString()}`);
  }

  /** An allowed order with a warning. */
  static warn(message: string): RiskResult {
    return new RiskResult('Warn', undefined, message);
  }

  get isAllow(): boolean {
    return this.kind === 'Allow';
  }
  get isReject(): boolean {
    return this.kind === 'Reject';
  }
  get isWarn(): boolean {
    return this.kind === 'Warn';
  }

  /**
   * Returns this result unless it is a rejection, which it throws.
   * @throws RiskError CircuitBreakerActive for a circuit-breaker rejection, OrderRejected for any other
   */
  orThrow(): this {
    if (this.kind !== 'Reject' || this.reason === undefined) return this;
    if (this.reason.kind === 'CircuitBreakerActive') {
      throw new RiskError('CircuitBreakerActive', `circuit breaker is active: ${this.reason.toString()}`);
    }
    throw new RiskError('OrderRejected', `order rejected: ${this.reason.toString()}`);
  }
}
