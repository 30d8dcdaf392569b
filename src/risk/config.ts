import { Decimal } from '../core/decimal.js';
import { RiskError, riskDecimal } from './errors.js';

/** The 8 risk thresholds; an absent one is no limit. Money in the portfolio's valuation currency. */
export interface RiskConfig {
  /** Max |position value| per instrument after the order, quote currency. */
  readonly maxPositionPerInstrument: Decimal | undefined;
  /** Max gross exposure (sum of |position values|) after the order. */
  readonly maxTotalExposure: Decimal | undefined;
  /** Max order value (price x quantity). */
  readonly maxOrderValue: Decimal | undefined;
  /** Max gross exposure / equity. */
  readonly maxLeverage: Decimal | undefined;
  /** Max drawdown from the equity peak, as a fraction (0.2 = 20%). */
  readonly maxDrawdown: Decimal | undefined;
  /** Max daily loss (a positive amount); exceeding it trips the circuit breaker. */
  readonly maxDailyLoss: Decimal | undefined;
  /** Max |position value| / equity for one instrument, as a fraction. */
  readonly maxConcentration: Decimal | undefined;
  /** How long a tripped circuit breaker blocks orders, seconds; absent = until reset. */
  readonly circuitBreakerCooldown: Decimal | undefined;
}

/** What makeRiskConfig accepts: decimal strings, numbers (thresholds are read via their shortest decimal form) or decimals. */
export type RiskConfigInput = Partial<Record<keyof RiskConfig, string | number | bigint | Decimal>>;

/** The RiskConfig keys. */
export const RISK_CONFIG_KEYS: readonly (keyof RiskConfig)[] = Object.freeze([
  'maxPositionPerInstrument',
  'maxTotalExposure',
  'maxOrderValue',
  'maxLeverage',
  'maxDrawdown',
  'maxDailyLoss',
  'maxConcentration',
  'circuitBreakerCooldown',
]);

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Validates and freezes a RiskConfig. Negative, NaN or infinite values, non-numbers, a maxDrawdown
 * above 1 and unknown keys are refused, every problem listed in one error.
 * @throws RiskError ConfigInvalid
 */
export function makeRiskConfig(input: RiskConfigInput = {}): RiskConfig {
  const problems: string[] = [];
  const out: Record<string, Decimal | undefined> = {};
  for (const k of RISK_CONFIG_KEYS) out[k] = undefined;
  if (typeof input !== 'object' || input === null) throw new RiskError('ConfigInvalid', 'risk config must be an object');
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!(RISK_CONFIG_KEYS as readonly string[]).includes(key)) {
      const hint = (RISK_CONFIG_KEYS as readonly string[]).includes(camel(key)) ? ` (did you mean ${camel(key)}?)` : '';
      problems.push(`unknown key ${JSON.stringify(key)}${hint}`);
      continue;
    }
    if (value === undefined) continue;
    try {
      const d = riskDecimal(value, key, 'ConfigInvalid', true);
      if (d.isNegative()) problems.push(`${key} cannot be negative, got ${d.toString()}`);
      else if (key === 'maxDrawdown' && d.gt(Decimal.ONE)) problems.push(`maxDrawdown is a fraction in [0, 1], got ${d.toString()}`);
      else out[key] = d;
    } catch (e) {
      if (e instanceof RiskError) problems.push(e.detail);
      else throw e;
    }
  }
  if (problems.length > 0) throw new RiskError('ConfigInvalid', `risk config invalid: ${problems.join('; ')}`);
  return Object.freeze(out) as unknown as RiskConfig;
}
