import { AxonError, CoreError } from '../core/errors.js';
import { Decimal, shortestString, type DecimalInput } from '../core/decimal.js';

/** Stable error codes of the risk module (the seed's `RiskError` table). */
export type RiskErrorCode = 'CircuitBreakerActive' | 'OrderRejected' | 'ConfigInvalid' | 'Overflow';

/** Error raised by the risk module. */
export class RiskError extends AxonError<RiskErrorCode> {
  override readonly name = 'RiskError';
}

/** Reads a decimal at the risk edge: strings, safe integers, decimals; floats only when `floats` (thresholds). */
export function riskDecimal(input: unknown, what: string, code: RiskErrorCode, floats = false): Decimal {
  if (typeof input === 'number' && floats) {
    if (!Number.isFinite(input)) throw new RiskError(code, `${what} must be a finite number, got ${input}`);
    input = shortestString(input);
  }
  if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'bigint' && !(input instanceof Decimal) && !isDecimalLike(input)) {
    throw new RiskError(code, `${what} must be a decimal string or number, got ${typeof input}`);
  }
  try {
    return Decimal.of(input as DecimalInput);
  } catch (e) {
    if (e instanceof CoreError) throw new RiskError(code, `${what}: ${e.detail}`, { cause: e });
    throw e;
  }
}

function isDecimalLike(x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as { raw?: unknown }).raw === 'bigint' && typeof (x as { precision?: unknown }).precision === 'number';
}
