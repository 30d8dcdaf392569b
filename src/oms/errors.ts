import { AxonError, CoreError } from '../core/errors.js';
import { Decimal, type DecimalInput } from '../core/decimal.js';

/** Stable error codes of the OMS (the seed's `OmsError` table). */
export type OmsErrorCode =
  | 'OrderNotFound'
  | 'InvalidTransition'
  | 'DuplicateIdempotencyKey'
  | 'AlreadyTerminal'
  | 'ExchangeRejected'
  | 'NetworkError'
  | 'SerializationError'
  | 'RecoveryFailed'
  | 'Portfolio';

/** Error raised by the order manager, the order state machine and the portfolio. */
export class OmsError extends AxonError<OmsErrorCode> {
  override readonly name = 'OmsError';
}

/**
 * Reads an API-edge decimal (string, safe integer or decimal object) exactly.
 * @throws OmsError SerializationError naming `what` when the input is not an exact decimal
 */
export function omsDecimal(input: DecimalInput, what: string): Decimal {
  try {
    return Decimal.of(input);
  } catch (e) {
    if (e instanceof CoreError) throw new OmsError('SerializationError', `${what}: ${e.detail}`, { cause: e });
    throw e;
  }
}
